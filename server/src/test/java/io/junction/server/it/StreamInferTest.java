package io.junction.server.it;

import static io.junction.server.InferRequests.floats;
import static io.junction.server.InferRequests.rawFp32;
import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.junction.proto.inference.GRPCInferenceServiceGrpc;
import io.junction.proto.inference.ModelInferRequest;
import io.junction.proto.inference.ModelStatisticsRequest;
import io.junction.proto.inference.ModelStreamInferResponse;
import io.junction.server.StreamAnswers;
import io.junction.server.TestServer;
import io.junction.testkit.DemoRepository;
import io.junction.testkit.ModelRepositoryWriter;
import io.junction.testkit.OnnxModelBuilder;
import io.junction.testkit.OnnxType;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ModelStreamInfer answers every request, in order, and reports a failed one without closing the stream. */
class StreamInferTest {
  /** More requests than the stream window (64), so flow control is exercised. */
  private static final int REQUESTS = 200;
  /** Every 17th request names an input the model does not have. */
  private static final int BAD_EVERY = 17;

  @TempDir Path repo;

  @Test
  void answersInRequestOrderWithErrorsInline() throws Exception {
    DemoRepository.write(repo);
    try (TestServer server = TestServer.start(repo)) {
      StreamAnswers collected = new StreamAnswers();
      StreamObserver<ModelInferRequest> requests = server.async().modelStreamInfer(collected);
      for (int i = 0; i < REQUESTS; i++) {
        float[] x = new float[8];
        x[0] = i;
        String input = i % BAD_EVERY == 0 ? "wrong" : "x";
        requests.onNext(rawFp32("mlp", "1", input, x, 1, 8).toBuilder().setId("r" + i).build());
      }
      requests.onCompleted();
      List<ModelStreamInferResponse> answers = collected.await(60);

      assertThat(answers).hasSize(REQUESTS);
      for (int i = 0; i < REQUESTS; i++) {
        ModelStreamInferResponse a = answers.get(i);
        assertThat(a.getInferResponse().getId()).isEqualTo("r" + i);
        if (i % BAD_EVERY == 0) {
          assertThat(a.getErrorMessage()).contains("INVALID_ARGUMENT", "unknown input 'wrong'");
        } else {
          assertThat(a.getErrorMessage()).isEmpty();
          float[] x = new float[8];
          x[0] = i;
          DemoRepositoryEndToEndTest.assertClose(floats(a.getInferResponse(), 0), DemoRepository.mlp(1).expected(x, 1));
        }
      }
    }
  }

  @Test
  void aClientThatDoesNotReadStopsTheStreamTakingRequests() throws Exception {
    DemoRepository.write(repo);
    // Answers of 256 KiB: a few fill the client's flow-control window.
    new ModelRepositoryWriter(repo).model("wide", 1, new OnnxModelBuilder("wide")
        .input("x", OnnxType.FLOAT, OnnxModelBuilder.DYNAMIC, 65_536)
        .output("y", OnnxType.FLOAT, OnnxModelBuilder.DYNAMIC, 65_536)
        .node("Identity", List.of("x"), List.of("y")).build()).config("wide", "max_batch_size: 4\n");
    try (TestServer server = TestServer.start(repo)) {
      ClientCall<ModelInferRequest, ModelStreamInferResponse> call = server.channel().newCall(
          GRPCInferenceServiceGrpc.getModelStreamInferMethod(), CallOptions.DEFAULT);
      List<ModelStreamInferResponse> answers = new CopyOnWriteArrayList<>();
      CompletableFuture<Void> done = new CompletableFuture<>();
      call.start(new ClientCall.Listener<>() {
        @Override
        public void onMessage(ModelStreamInferResponse message) {
          answers.add(message);
        }

        @Override
        public void onClose(Status status, Metadata trailers) {
          done.complete(null);
        }
      }, new Metadata()); // and no call.request(): this client reads nothing for now
      ModelInferRequest request = rawFp32("wide", "", "x", new float[65_536], 1, 65_536);
      for (int i = 0; i < REQUESTS; i++) {
        call.sendMessage(request);
      }
      Thread.sleep(2000);
      long served = executions(server);
      assertThat(served).as("requests served while the client read nothing: the window (64) and what the "
          + "transport holds, not all %d", REQUESTS).isLessThanOrEqualTo(64 + 16);
      call.request(Integer.MAX_VALUE); // now it reads: everything is answered
      call.halfClose();
      done.get(60, TimeUnit.SECONDS);
      assertThat(answers).hasSize(REQUESTS);
      assertThat(answers).allSatisfy(a -> assertThat(a.getErrorMessage()).isEmpty());
    }
  }

  private static long executions(TestServer server) {
    return server.blocking().modelStatistics(ModelStatisticsRequest.newBuilder()
        .setName("wide").build()).getModelStats(0).getInferenceStats().getSuccess().getCount();
  }
}
