package io.junction.server.it;

import static io.junction.server.InferRequests.floats;
import static io.junction.server.InferRequests.rawFp32;
import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.stub.StreamObserver;
import io.junction.proto.inference.ModelInferRequest;
import io.junction.proto.inference.ModelStreamInferResponse;
import io.junction.server.TestServer;
import io.junction.testkit.DemoRepository;
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
      List<ModelStreamInferResponse> answers = new CopyOnWriteArrayList<>();
      CompletableFuture<Void> done = new CompletableFuture<>();
      StreamObserver<ModelInferRequest> requests = server.async().modelStreamInfer(new StreamObserver<>() {
        @Override
        public void onNext(ModelStreamInferResponse value) {
          answers.add(value);
        }

        @Override
        public void onError(Throwable t) {
          done.completeExceptionally(t);
        }

        @Override
        public void onCompleted() {
          done.complete(null);
        }
      });
      for (int i = 0; i < REQUESTS; i++) {
        float[] x = new float[8];
        x[0] = i;
        String input = i % BAD_EVERY == 0 ? "wrong" : "x";
        requests.onNext(rawFp32("mlp", "1", input, x, 1, 8).toBuilder().setId("r" + i).build());
      }
      requests.onCompleted();
      done.get(60, TimeUnit.SECONDS);

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
}
