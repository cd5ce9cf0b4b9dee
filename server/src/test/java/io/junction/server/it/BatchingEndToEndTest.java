package io.junction.server.it;

import static io.junction.server.InferRequests.floats;
import static io.junction.server.InferRequests.rawFp32;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.junction.proto.inference.ModelStatistics;
import io.junction.proto.inference.ModelStatisticsRequest;
import io.junction.server.TestServer;
import io.junction.server.config.ServerConfig;
import io.junction.server.device.DeviceId;
import io.junction.testkit.DeepMlp;
import io.junction.testkit.ModelRepositoryWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Dynamic batching and device sharing through the real server and real ONNX models. */
class BatchingEndToEndTest {
  private static final String BATCHING = """
      max_batch_size: 64
      dynamic_batching { max_queue_delay_microseconds: 2000 }
      """;

  @TempDir Path repo;

  @Test
  void sixtyFourCallersAreBatchedAndEachGetsItsOwnRows() throws Exception {
    // Runs of this width take a millisecond or more, so the instance is busy whenever callers send: requests must
    // wait and be merged, whatever the machine's speed. (Narrower models ran faster than 64 callers could send on
    // some machines; a request that finds its instance idle rightly runs alone.)
    DeepMlp mlp = DeepMlp.seeded(5, 64, 1024, 1024, 64);
    new ModelRepositoryWriter(repo).model("deep", 1, mlp.onnx()).config("deep", BATCHING);
    int callers = 64;
    int calls = 20;
    try (TestServer server = TestServer.start(repo)) {
      ExecutorService pool = Executors.newFixedThreadPool(callers);
      CountDownLatch go = new CountDownLatch(1);
      List<Future<?>> done = new ArrayList<>();
      for (int c = 0; c < callers; c++) {
        int caller = c;
        done.add(pool.submit(() -> {
          // Inputs and answers are worked out before the start, so that the callers send as fast as the server
          // answers rather than computing the MLP between calls.
          float[][] inputs = new float[calls][];
          float[][] answers = new float[calls][];
          for (int i = 0; i < calls; i++) {
            int rows = 1 + (caller + i) % 3;
            inputs[i] = new float[rows * 64];
            for (int k = 0; k < inputs[i].length; k++) {
              inputs[i][k] = (float) Math.sin(caller * 7.1 + i * 3.3 + k * 0.01);
            }
            answers[i] = mlp.expected(inputs[i], rows);
          }
          go.await();
          for (int i = 0; i < calls; i++) {
            int rows = 1 + (caller + i) % 3;
            float[] y = floats(server.blocking().modelInfer(rawFp32("deep", "", "x", inputs[i], rows, 64)), 0);
            float[] expected = answers[i];
            assertThat(y).hasSameSizeAs(expected);
            for (int k = 0; k < y.length; k++) {
              assertThat(y[k]).as("caller %d call %d element %d", caller, i, k).isCloseTo(expected[k], within(2e-3f));
            }
          }
          return null;
        }));
      }
      go.countDown();
      for (Future<?> f : done) {
        f.get(120, TimeUnit.SECONDS);
      }
      pool.shutdown();
      ModelStatistics s = server.blocking().modelStatistics(ModelStatisticsRequest.newBuilder().setName("deep").build())
          .getModelStats(0);
      long rows = 0;
      for (int c = 0; c < callers; c++) {
        for (int i = 0; i < calls; i++) {
          rows += 1 + (c + i) % 3;
        }
      }
      assertThat(s.getInferenceCount()).isEqualTo(rows);
      assertThat(s.getInferenceStats().getSuccess().getCount()).isEqualTo((long) callers * calls);
      assertThat(s.getExecutionCount()).as("executions for %d rows", rows).isLessThanOrEqualTo(rows / 4);
      assertThat(s.getBatchStatsList().stream().mapToLong(b -> b.getBatchSize()).max().orElse(0)).isGreaterThan(8);
    }
  }

  @Test
  void aSaturatedModelDoesNotStarveAnotherOnTheSameDevice() throws Exception {
    DeepMlp hot = DeepMlp.seeded(1, 256, 1024, 1024, 256);
    DeepMlp cold = DeepMlp.seeded(2, 8, 8);
    new ModelRepositoryWriter(repo).model("hot", 1, hot.onnx()).config("hot", BATCHING)
        .model("cold", 1, cold.onnx()).config("cold", BATCHING);
    int slots = 1;
    ServerConfig config = ServerConfig.loopback(repo).withScheduling(slots, 1024);
    try (TestServer server = TestServer.start(config)) {
      AtomicBoolean running = new AtomicBoolean(true);
      ExecutorService load = Executors.newFixedThreadPool(16);
      float[] hotInput = new float[16 * 256];
      Arrays.fill(hotInput, 0.1f);
      for (int i = 0; i < 16; i++) {
        load.submit(() -> {
          while (running.get()) {
            server.blocking().modelInfer(rawFp32("hot", "", "x", hotInput, 16, 256));
          }
          return null;
        });
      }
      Thread.sleep(500); // let the hot model saturate the device
      long worstColdNanos = 0;
      float[] x = new float[8];
      for (int i = 0; i < 30; i++) {
        x[0] = i;
        long start = System.nanoTime();
        float[] y = floats(server.blocking().modelInfer(rawFp32("cold", "", "x", x, 1, 8)), 0);
        worstColdNanos = Math.max(worstColdNanos, System.nanoTime() - start);
        assertThat(y[0]).isCloseTo(cold.expected(x, 1)[0], within(1e-4f));
      }
      running.set(false);
      load.shutdown();
      assertThat(load.awaitTermination(60, TimeUnit.SECONDS)).isTrue();

      ModelStatistics hotStats = server.blocking().modelStatistics(
          ModelStatisticsRequest.newBuilder().setName("hot").build()).getModelStats(0);
      long hotBatchNanos = hotStats.getInferenceStats().getComputeInfer().getNs()
          / Math.max(1, hotStats.getExecutionCount());
      long hotQueueNanos = hotStats.getInferenceStats().getQueue().getNs()
          / Math.max(1, hotStats.getInferenceStats().getQueue().getCount());
      // Round robin: a cold request waits for at most the hot batch in progress and its own turn, not
      // for the hot model's queue. The bound allows a few hot batches plus scheduling noise.
      assertThat(worstColdNanos).as("worst cold latency vs hot batch %d us, hot queue wait %d us",
          hotBatchNanos / 1000, hotQueueNanos / 1000).isLessThan(5 * hotBatchNanos + 100_000_000L);
      assertThat(hotStats.getExecutionCount()).as("the hot model was really busy").isGreaterThan(20);
      assertThat(server.server().scheduler().devices().scheduler(DeviceId.CPU).peakConcurrency()).isEqualTo(slots);
    }
  }
}
