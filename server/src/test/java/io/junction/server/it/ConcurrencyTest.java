package io.junction.server.it;

import static io.junction.server.InferRequests.floats;
import static io.junction.server.InferRequests.input;
import static io.junction.server.InferRequests.rawFp32;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.junction.proto.inference.ModelInferRequest;
import io.junction.proto.inference.ModelInferResponse;
import io.junction.proto.inference.ModelStatisticsRequest;
import io.junction.proto.inference.ModelStatisticsResponse;
import io.junction.server.InferRequests;
import io.junction.server.TestServer;
import io.junction.testkit.DemoRepository;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Many parallel callers over several models; every single answer is checked. */
class ConcurrencyTest {
  private static final int CALLERS = 64;
  private static final int CALLS_PER_CALLER = 25;

  @TempDir Path repo;

  @Test
  void sixtyFourCallersOverSeveralModelsAllGetTheirOwnCorrectAnswers() throws Exception {
    DemoRepository.write(repo);
    try (TestServer server = TestServer.start(repo)) {
      ExecutorService callers = Executors.newFixedThreadPool(CALLERS);
      CountDownLatch go = new CountDownLatch(1);
      List<Future<Integer>> results = new ArrayList<>();
      for (int c = 0; c < CALLERS; c++) {
        int caller = c;
        results.add(callers.submit(() -> {
          go.await();
          int checked = 0;
          for (int i = 0; i < CALLS_PER_CALLER; i++) {
            // Inputs differ per caller and call, so a mixed-up answer cannot pass.
            float seed = caller * 1000 + i;
            switch ((caller + i) % 3) {
              case 0 -> {
                int version = 1 + (caller + i) % 2;
                int rows = 1 + i % 4;
                float[] x = new float[rows * 8];
                for (int k = 0; k < x.length; k++) {
                  x[k] = (float) Math.sin(seed + k);
                }
                ModelInferResponse r = server.blocking().modelInfer(
                    rawFp32("mlp", Integer.toString(version), "x", x, rows, 8).toBuilder().setId("c" + seed).build());
                assertThat(r.getId()).isEqualTo("c" + seed);
                assertThat(r.getModelVersion()).isEqualTo(Integer.toString(version));
                float[] expected = DemoRepository.mlp(version).expected(x, rows);
                float[] actual = floats(r, 0);
                assertThat(actual).hasSameSizeAs(expected);
                for (int k = 0; k < expected.length; k++) {
                  assertThat(actual[k]).isCloseTo(expected[k], within(1e-4f));
                }
              }
              case 1 -> {
                float[] a = {seed, seed + 1, seed + 2};
                float[] b = {1, 2, 3};
                ModelInferResponse r = server.blocking().modelInfer(ModelInferRequest.newBuilder()
                    .setModelName("add_sub").addInputs(input("A", "FP32", 1, 3)).addInputs(input("B", "FP32", 1, 3))
                    .addRawInputContents(InferRequests.fp32(a)).addRawInputContents(InferRequests.fp32(b)).build());
                assertThat(floats(r, 0)).containsExactly(seed + 1, seed + 3, seed + 5);
                assertThat(floats(r, 1)).containsExactly(seed - 1, seed - 1, seed - 1);
              }
              default -> {
                String text = "caller " + caller + " call " + i;
                ModelInferResponse r = server.blocking().modelInfer(ModelInferRequest.newBuilder()
                    .setModelName("text_echo").addInputs(input("TEXT", "BYTES", 1))
                    .addRawInputContents(InferRequests.bytesRaw(text)).build());
                assertThat(InferRequests.strings(r, 0)).containsExactly(text);
              }
            }
            checked++;
          }
          return checked;
        }));
      }
      go.countDown();
      int total = 0;
      for (Future<Integer> f : results) {
        total += f.get(120, TimeUnit.SECONDS);
      }
      callers.shutdown();
      assertThat(total).isEqualTo(CALLERS * CALLS_PER_CALLER);

      // The server's own statistics agree with what the callers saw.
      ModelStatisticsResponse stats = server.blocking().modelStatistics(ModelStatisticsRequest.getDefaultInstance());
      long successes = stats.getModelStatsList().stream()
          .mapToLong(s -> s.getInferenceStats().getSuccess().getCount()).sum();
      long failures = stats.getModelStatsList().stream().mapToLong(s -> s.getInferenceStats().getFail().getCount()).sum();
      assertThat(successes).isEqualTo(CALLERS * CALLS_PER_CALLER);
      assertThat(failures).isZero();
    }
  }
}
