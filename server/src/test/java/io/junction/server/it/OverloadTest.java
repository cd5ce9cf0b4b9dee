package io.junction.server.it;

import static io.junction.server.InferRequests.rawFp32;
import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.junction.proto.inference.ModelInferRequest;
import io.junction.proto.inference.ModelStatistics;
import io.junction.proto.inference.ModelStatisticsRequest;
import io.junction.server.InferRequests;
import io.junction.server.TestServer;
import io.junction.server.config.ServerConfig;
import io.junction.testkit.DeepMlp;
import io.junction.testkit.ModelRepositoryWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A slow model under more load than its queue holds: statuses over the wire, and nothing lost. */
class OverloadTest {
  @TempDir Path repo;

  @Test
  void aFullQueueAnswersResourceExhaustedAndEveryAcceptedRequestIsAnswered() throws Exception {
    // One instance, one CPU slot, room for two waiting requests: most of 24 simultaneous calls are refused.
    new ModelRepositoryWriter(repo).model("slow", 1, DeepMlp.slow().onnx())
        .config("slow", "max_batch_size: 64\ndynamic_batching { default_queue_policy { max_queue_size: 2 } }\n");
    try (TestServer server = TestServer.start(ServerConfig.loopback(repo).withScheduling(1, 1024))) {
      ModelInferRequest request = rawFp32("slow", "", "x", InferRequests.ramp(64 * 512, 0.01f), 64, 512);
      ExecutorService callers = Executors.newFixedThreadPool(24);
      List<Future<Status.Code>> codes = new ArrayList<>();
      for (int i = 0; i < 24; i++) {
        codes.add(callers.submit(() -> {
          try {
            server.blocking().modelInfer(request);
            return Status.Code.OK;
          } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() == Status.Code.RESOURCE_EXHAUSTED) {
              assertThat(e.getStatus().getDescription()).contains("model 'slow' version 1", "queue", "full");
            }
            return e.getStatus().getCode();
          }
        }));
      }
      Map<Status.Code, Integer> counts = new EnumMap<>(Status.Code.class);
      for (Future<Status.Code> f : codes) {
        counts.merge(f.get(120, TimeUnit.SECONDS), 1, Integer::sum);
      }
      callers.shutdown();
      assertThat(counts.keySet()).containsOnly(Status.Code.OK, Status.Code.RESOURCE_EXHAUSTED);
      assertThat(counts.get(Status.Code.RESOURCE_EXHAUSTED)).isPositive();
      ModelStatistics s = stats(server);
      assertThat(s.getInferenceStats().getSuccess().getCount()).isEqualTo(counts.get(Status.Code.OK).longValue());
      assertThat(s.getInferenceStats().getFail().getCount()).isEqualTo(counts.get(Status.Code.RESOURCE_EXHAUSTED).longValue());
    }
  }

  @Test
  void aRequestWhoseDeadlinePassesInTheQueueNeverRuns() throws Exception {
    new ModelRepositoryWriter(repo).model("slow", 1, DeepMlp.slow().onnx())
        .config("slow", "max_batch_size: 64\n");
    try (TestServer server = TestServer.start(ServerConfig.loopback(repo).withScheduling(1, 1024))) {
      ModelInferRequest big = rawFp32("slow", "", "x", InferRequests.ramp(64 * 512, 0.01f), 64, 512);
      // Eight callers keep the model's one instance busy with a queue of big requests behind it.
      AtomicBoolean running = new AtomicBoolean(true);
      ExecutorService background = Executors.newFixedThreadPool(8);
      List<Future<Integer>> busy = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        busy.add(background.submit(() -> {
          int done = 0;
          while (running.get()) {
            server.blocking().modelInfer(big);
            done++;
          }
          return done;
        }));
      }
      // Sent once two requests wait behind the one running: it then waits at least two of their runs (~10 ms
      // each). The callers' requests (128 KiB) take a while to send and parse, so the queue sometimes drains on this
      // 2-core machine; a late call that found the instance idle was rightly started at once, and ran past its
      // deadline (a clean-clone CI run, and one the day before with a 30 ms deadline, counted one execution more).
      long waitUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (server.metric("junction_queue_size{model=\"slow\",version=\"1\"}", 0) < 2) {
        assertThat(System.nanoTime()).as("two requests queued behind the running one").isLessThan(waitUntil);
        Thread.onSpinWait();
      }
      StatusRuntimeException late = null;
      try {
        // 5 ms: far less than the two batches queued ahead take.
        server.blocking().withDeadlineAfter(5, TimeUnit.MILLISECONDS).modelInfer(big);
      } catch (StatusRuntimeException e) {
        late = e;
      }
      running.set(false);
      int succeeded = 0;
      for (Future<Integer> f : busy) {
        succeeded += f.get(120, TimeUnit.SECONDS);
      }
      background.shutdown();
      assertThat(late).as("a call behind a queue of eight big batches cannot finish in 5 ms").isNotNull();
      assertThat(late.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
      ModelStatistics s = stats(server);
      // Each request runs alone here, so executions count the requests that ran: the late one did not.
      assertThat(s.getExecutionCount()).isEqualTo(succeeded);
      assertThat(s.getInferenceStats().getSuccess().getCount()).isEqualTo(succeeded);
      // Counted as failed when it reached the server before its deadline; on a loaded 2-core machine it
      // may expire on the way, and then the server never sees it at all.
      assertThat(s.getInferenceStats().getFail().getCount()).isBetween(0L, 1L);
    }
  }

  private static ModelStatistics stats(TestServer server) {
    return server.blocking().modelStatistics(ModelStatisticsRequest.newBuilder().setName("slow").build()).getModelStats(0);
  }
}
