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
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.awaitility.Awaitility;
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
      // The late call's deadline is a third of one run of the model, measured here, and it is sent once three
      // requests wait behind the running one: it then waits at least two whole runs, several times its deadline,
      // on any machine. Fixed deadlines (30 ms, then 5 ms) did not: on a fast machine the queue ahead drained in
      // less, the late call was rightly started before its deadline, ran past it, and counted one execution more.
      long runNanos = runNanos(server);
      Awaitility.await("three requests queued behind the running one").atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(1))
          .until(() -> server.metric("junction_queue_size{model=\"slow\",version=\"1\"}", 0), n -> n >= 3);
      StatusRuntimeException late = null;
      try {
        server.blocking().withDeadlineAfter(Math.max(100_000, runNanos / 3), TimeUnit.NANOSECONDS).modelInfer(big);
      } catch (StatusRuntimeException e) {
        late = e;
      }
      running.set(false);
      int succeeded = 0;
      for (Future<Integer> f : busy) {
        succeeded += f.get(120, TimeUnit.SECONDS);
      }
      background.shutdown();
      assertThat(late).as("a call behind three big batches cannot finish in a third of one").isNotNull();
      assertThat(late.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
      ModelStatistics s = stats(server);
      // Each request runs alone here, so executions count the requests that ran: the late one did not.
      assertThat(s.getExecutionCount()).as("executions (the late call: %s; a run: %d µs)",
          late.getStatus().getDescription(), runNanos / 1000).isEqualTo(succeeded);
      assertThat(s.getInferenceStats().getSuccess().getCount()).isEqualTo(succeeded);
      // Counted as failed when it reached the server before its deadline; on a loaded 2-core machine it
      // may expire on the way, and then the server never sees it at all.
      assertThat(s.getInferenceStats().getFail().getCount()).isBetween(0L, 1L);
    }
  }

  /** One run of the model, as the two after the first two executions took on average (the first runs cold). */
  private static long runNanos(TestServer server) {
    ModelStatistics before = waitForExecutions(server, 2);
    ModelStatistics after = waitForExecutions(server, before.getExecutionCount() + 2);
    return (after.getInferenceStats().getComputeInfer().getNs() - before.getInferenceStats().getComputeInfer().getNs())
        / (after.getExecutionCount() - before.getExecutionCount());
  }

  private static ModelStatistics waitForExecutions(TestServer server, long executions) {
    return Awaitility.await(executions + " executions").atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(1)).until(() -> stats(server), s -> s.getExecutionCount() >= executions);
  }

  private static ModelStatistics stats(TestServer server) {
    return server.blocking().modelStatistics(ModelStatisticsRequest.newBuilder().setName("slow").build()).getModelStats(0);
  }
}
