package io.junction.server.it;

import static io.junction.server.InferRequests.rawFp32;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.junction.proto.inference.ModelInferRequest;
import io.junction.proto.inference.ModelInferResponse;
import io.junction.server.TestServer;
import io.junction.server.config.ServerConfig;
import io.junction.testkit.DemoRepository;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Large requests are parsed on a lane of their own: while a burst of them keeps it busy, small calls are
 * answered at once, past the large ones still waiting.
 */
class LargeRequestsTest {
  @TempDir Path dir;

  @Test
  void smallCallsGoPastLargeRequestsWaitingToBeParsed() throws Exception {
    try (TestServer server = TestServer.start(ServerConfig.loopback(DemoRepository.write(dir.resolve("repo"))))) {
      ModelInferRequest heavy = slowToParse();
      assertThat(heavy.getSerializedSize()).as("over the 1 MiB that makes a request large").isGreaterThan(1 << 20);
      List<CompletableFuture<String>> large = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        CompletableFuture<String> done = new CompletableFuture<>();
        large.add(done);
        server.async().modelInfer(heavy, new StreamObserver<>() {
          @Override
          public void onNext(ModelInferResponse value) {}

          @Override
          public void onError(Throwable t) {
            done.complete(Status.fromThrowable(t).getCode().name());
          }

          @Override
          public void onCompleted() {
            done.complete("OK");
          }
        });
      }
      await().atMost(Duration.ofSeconds(60)).until(() -> server.metric("junction_grpc_large_requests_waiting", -1) >= 4);

      for (int i = 0; i < 20; i++) {
        assertThat(server.blocking().withDeadlineAfter(5, TimeUnit.SECONDS)
            .modelInfer(rawFp32("mlp", "", "x", new float[8], 1, 8)).getOutputsCount()).isEqualTo(1);
      }
      assertThat(server.metric("junction_grpc_large_requests_waiting", -1))
          .as("small calls were answered while large ones still waited for the lane").isGreaterThanOrEqualTo(1);

      CompletableFuture.allOf(large.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
      assertThat(large).allSatisfy(f -> assertThat(f.join()).as("every large request answered").isEqualTo("INVALID_ARGUMENT"));
      assertThat(server.metric("junction_grpc_large_requests_waiting", -1)).isZero();
    }
  }

  /** A few megabytes of many small input tensors: costly to parse for its size. */
  private static ModelInferRequest slowToParse() {
    ModelInferRequest.Builder b = ModelInferRequest.newBuilder().setModelName("mlp");
    for (int i = 0; i < 200_000; i++) {
      b.addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("x" + i).setDatatype("FP32")
          .addShape(1).addShape(8));
    }
    return b.build();
  }

}
