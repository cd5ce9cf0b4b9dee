package io.junction.server.it;

import static io.junction.server.InferRequests.floats;
import static io.junction.server.InferRequests.rawFp32;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.grpc.stub.StreamObserver;
import io.junction.proto.inference.ModelInferRequest;
import io.junction.proto.inference.ModelInferResponse;
import io.junction.proto.inference.ModelStreamInferResponse;
import io.junction.server.InferRequests;
import io.junction.server.TestServer;
import io.junction.testkit.DemoRepository;
import io.junction.testkit.ImageClassifier;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Requests compressed by the client (grpc-encoding gzip, as tritonclient's compression_algorithm sends them) are
 * answered as uncompressed ones are, on every path a request can take: small, large enough for the pooled copy, and
 * over a stream.
 */
class GrpcCompressionTest {
  @TempDir static Path dir;
  static TestServer server;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start(DemoRepository.write(dir.resolve("repo")));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void aSmallCompressedRequestIsAnsweredAsAnUncompressedOne() {
    float[] in = InferRequests.ramp(8, 0.25f);
    ModelInferRequest request = rawFp32("mlp", "2", "x", in, 1, 8);
    float[] plain = floats(server.blocking().modelInfer(request), 0);
    float[] zipped = floats(server.blocking().withCompression("gzip").modelInfer(request), 0);
    assertThat(zipped).containsExactly(plain);
    assertThat(plain).containsExactly(DemoRepository.mlp(2).expected(in, 1), within(1e-5f));
  }

  @Test
  void aCompressedImageIsInflatedWholeBeforeItIsRead() {
    ImageClassifier classifier = DemoRepository.imageClassifier();
    int size = classifier.channels() * classifier.height() * classifier.width();
    for (int batch : new int[] {2, 8}) { // under and over the size from which a request's calls leave the event loop
      float[] images = InferRequests.ramp(batch * size, 1e-4f);
      ModelInferRequest request = rawFp32(DemoRepository.IMAGE_CLASSIFIER, "", ImageClassifier.INPUT, images, batch,
          classifier.channels(), classifier.height(), classifier.width());
      assertThat(request.getSerializedSize()).isGreaterThan(batch * 100_000);
      float[] answer = floats(server.blocking().withCompression("gzip").withDeadlineAfter(10, TimeUnit.SECONDS)
          .modelInfer(request), 0);
      assertThat(answer).as("batch of %d", batch).containsExactly(classifier.expected(images, batch), within(1e-4f));
    }
  }

  @Test
  void compressedRequestsOverAStreamAreAnswered() throws Exception {
    CompletableFuture<float[]> first = new CompletableFuture<>();
    StreamObserver<ModelInferRequest> requests = server.async().withCompression("gzip").modelStreamInfer(
        new StreamObserver<>() {
          @Override
          public void onNext(ModelStreamInferResponse value) {
            if (!value.getErrorMessage().isEmpty()) {
              first.completeExceptionally(new AssertionError(value.getErrorMessage()));
            } else {
              first.complete(floats(value.getInferResponse(), 0));
            }
          }

          @Override
          public void onError(Throwable t) {
            first.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {}
        });
    float[] in = InferRequests.ramp(8, 0.5f);
    requests.onNext(rawFp32("mlp", "2", "x", in, 1, 8));
    assertThat(first.get(10, TimeUnit.SECONDS)).containsExactly(DemoRepository.mlp(2).expected(in, 1), within(1e-5f));
    requests.onCompleted();
  }
}
