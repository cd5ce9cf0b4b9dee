package io.junction.server.it;

import static io.junction.server.InferRequests.rawFp32;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.Context;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.junction.proto.inference.ModelInferRequest;
import io.junction.proto.inference.ModelInferResponse;
import io.junction.proto.inference.ModelStatistics;
import io.junction.proto.inference.ModelStatisticsRequest;
import io.junction.proto.inference.ModelStreamInferResponse;
import io.junction.proto.inference.RepositoryModelUnloadRequest;
import io.junction.server.InferRequests;
import io.junction.server.TestServer;
import io.junction.server.config.ModelControl;
import io.junction.server.config.ServerConfig;
import io.junction.server.model.FailureReason;
import io.junction.testkit.DeepMlp;
import io.junction.testkit.ModelRepositoryWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every request a model accepts is counted once, however it ends: answered, refused by a full queue,
 * expired or cancelled while it waits, invalid, or on a stream its client walks away from. The model's
 * statistics and the request metrics agree, nothing is left in flight, and the model still unloads.
 */
class AccountingTest {
  private static final String MODEL = "slow";
  private static final String HELD = "held";

  @TempDir Path repo;

  @Test
  void everyAcceptedRequestIsCountedOnceHoweverItEnds() throws Exception {
    new ModelRepositoryWriter(repo).model(MODEL, 1, DeepMlp.slow().onnx())
        .config(MODEL, "max_batch_size: 64\ndynamic_batching { default_queue_policy { max_queue_size: 6 } }\n");
    ServerConfig config = ServerConfig.loopback(repo).withScheduling(1, 1024)
        .withControl(ModelControl.explicit(Set.of("*"))).withOpenRepositoryApi();
    try (TestServer server = TestServer.start(config)) {
      ModelInferRequest good = rawFp32(MODEL, "", "x", InferRequests.ramp(8 * 512, 0.01f), 8, 512);
      ModelInferRequest bad = rawFp32(MODEL, "", "x", InferRequests.ramp(8 * 511, 0.01f), 8, 511);
      // Of every 11 calls: 4 plain, 3 with a deadline of 3 to 43 ms, 3 cancelled as they start, 1 invalid.
      int calls = 110;
      int invalid = calls / 11;
      StatusCounter unary = new StatusCounter(calls);

      // Two streams among the calls: one read to its end, one its client cancels while requests of it wait.
      StreamCounter finished = new StreamCounter();
      StreamObserver<ModelInferRequest> whole = server.async().modelStreamInfer(finished);
      Context.CancellableContext leaving = Context.current().withCancellation();
      StreamCounter abandoned = new StreamCounter();
      StreamObserver<ModelInferRequest> walkedAway = leaving.call(() -> server.async().modelStreamInfer(abandoned));
      int streamed = 0;

      for (int i = 0; i < calls; i++) {
        int kind = i % 11;
        if (kind < 4) {
          server.async().modelInfer(good, unary);
        } else if (kind < 7) {
          server.async().withDeadlineAfter(3 + (i % 5) * 10, TimeUnit.MILLISECONDS).modelInfer(good, unary);
        } else if (kind < 10) {
          Context.CancellableContext context = Context.current().withCancellation();
          context.run(() -> server.async().modelInfer(good, unary));
          if (i % 3 == 0) {
            Thread.sleep(1);
          }
          context.cancel(null);
        } else {
          server.async().modelInfer(bad, unary);
        }
        if (i % 5 == 0 && i < 60) {
          whole.onNext(i % 4 == 0 ? bad : good);
          walkedAway.onNext(good);
          streamed++;
        }
        if (i == 60) {
          abandoned.awaitFirstAnswer(60);
          leaving.cancel(null);
        }
      }
      whole.onCompleted();
      unary.awaitAll(120);
      finished.awaitEnd(120);

      await().atMost(Duration.ofSeconds(60)).until(() ->
          server.metric(pending(MODEL), -1) == 0
              && server.metric("junction_inflight_requests{model=\"slow\",version=\"1\"}", -1) == 0);

      // A call's statistics are counted as its request completes, its request metrics once it is answered, a moment
      // later (after the version's hold is released): they agree once every call has been answered.
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertCountsAgree(server, MODEL));
      ModelStatistics s = statistics(server, MODEL);
      long succeeded = s.getInferenceStats().getSuccess().getCount();
      long failed = s.getInferenceStats().getFail().getCount();

      int ok = unary.count(Status.Code.OK) + finished.answered.get() + abandoned.answered.get();
      int refusedOrInvalid = unary.count(Status.Code.RESOURCE_EXHAUSTED) + unary.count(Status.Code.INVALID_ARGUMENT)
          + finished.errors.get() + abandoned.errors.get();
      int sent = calls + 2 * streamed;
      assertThat(succeeded).as("every answer the clients saw succeed was counted").isGreaterThanOrEqualTo(ok);
      assertThat(failed).as("every refusal the clients saw was counted").isGreaterThanOrEqualTo(refusedOrInvalid);
      assertThat(succeeded + failed).as("no request counted twice").isLessThanOrEqualTo(sent);
      assertThat(unary.codes().keySet()).as(unary.codes().toString()).isSubsetOf(Status.Code.OK, Status.Code.RESOURCE_EXHAUSTED,
          Status.Code.INVALID_ARGUMENT, Status.Code.DEADLINE_EXCEEDED, Status.Code.CANCELLED);
      // Admission comes before validation, so an invalid call that finds the queue full is refused as such.
      assertThat(unary.count(Status.Code.INVALID_ARGUMENT)).isBetween(0, invalid);

      // Nothing holds the version: unloaded, it closes, and its series go with it.
      server.blocking().repositoryModelUnload(RepositoryModelUnloadRequest.newBuilder().setModelName(MODEL).build());
      await().atMost(Duration.ofSeconds(30)).until(() ->
          server.metric("junction_inflight_requests{model=\"slow\",version=\"1\"}", -1) == -1);
    }
  }

  /**
   * Calls cancelled for certain while they wait (a model that holds its batches for a size they never reach) are
   * counted once each, as cancelled, and never run.
   */
  @Test
  void callsCancelledWhileTheyWaitAreCountedOnceAsCancelled() throws Exception {
    new ModelRepositoryWriter(repo).model(HELD, 1, DeepMlp.slow().onnx()).config(HELD, """
        max_batch_size: 64
        dynamic_batching { preferred_batch_size: [ 64 ] max_queue_delay_microseconds: 600000000 }
        parameters { key: "batch_wait_while_idle" value: { string_value: "true" } }
        """);
    try (TestServer server = TestServer.start(repo)) {
      ModelInferRequest one = rawFp32(HELD, "", "x", InferRequests.ramp(512, 0.01f), 1, 512);
      StatusCounter codes = new StatusCounter(3);
      List<Context.CancellableContext> waiting = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        Context.CancellableContext context = Context.current().withCancellation();
        context.run(() -> server.async().modelInfer(one, codes));
        waiting.add(context);
      }
      await().atMost(Duration.ofSeconds(30)).until(() -> server.metric(pending(HELD), -1) == 3);
      waiting.forEach(c -> c.cancel(null));
      codes.awaitAll(30);
      assertThat(codes.count(Status.Code.CANCELLED)).isEqualTo(3);

      await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertCountsAgree(server, HELD));
      ModelStatistics s = statistics(server, HELD);
      assertThat(s.getInferenceStats().getFail().getCount()).isEqualTo(3);
      assertThat(s.getInferenceStats().getSuccess().getCount()).isZero();
      assertThat(s.getExecutionCount()).as("a cancelled call never runs").isZero();
      assertThat(server.metric("nv_inference_request_failure{model=\"held\",reason=\"CANCELED\",version=\"1\"}", 0))
          .isEqualTo(3);
      assertThat(server.metric(pending(HELD), -1)).isZero();
    }
  }

  /** The model's statistics, its request metrics and its failure reasons say the same. */
  private static void assertCountsAgree(TestServer server, String model) throws IOException {
    ModelStatistics s = statistics(server, model);
    long succeeded = s.getInferenceStats().getSuccess().getCount();
    long failed = s.getInferenceStats().getFail().getCount();
    assertThat(server.metric(requestCount(model, "success"), 0)).as("successes, by metrics and by statistics")
        .isEqualTo(succeeded);
    assertThat(server.metric(requestCount(model, "failure"), 0)).as("failures, by metrics and by statistics")
        .isEqualTo(failed);
    assertThat(server.metric("nv_inference_request_success{model=\"" + model + "\",version=\"1\"}", 0))
        .isEqualTo(succeeded);
    double byReason = 0;
    for (FailureReason reason : FailureReason.values()) {
      byReason += server.metric("nv_inference_request_failure{model=\"" + model + "\",reason=\"" + reason
          + "\",version=\"1\"}", 0);
    }
    assertThat(byReason).as("failures by reason add up").isEqualTo(failed);
  }

  private static String requestCount(String model, String outcome) {
    return "junction_request_duration_seconds_count{model=\"" + model + "\",outcome=\"" + outcome + "\",version=\"1\"}";
  }

  private static String pending(String model) {
    return "nv_inference_pending_request_count{model=\"" + model + "\",version=\"1\"}";
  }

  private static ModelStatistics statistics(TestServer server, String model) {
    return server.blocking().modelStatistics(ModelStatisticsRequest.newBuilder().setName(model).build()).getModelStats(0);
  }

  /** Counts unary calls' ends by status, OK included. */
  private static final class StatusCounter implements StreamObserver<ModelInferResponse> {
    private final Map<Status.Code, AtomicInteger> byCode = new ConcurrentHashMap<>();
    private final CountDownLatch ended;

    StatusCounter(int calls) {
      ended = new CountDownLatch(calls);
    }

    @Override
    public void onNext(ModelInferResponse value) {}

    @Override
    public void onError(Throwable t) {
      ended(Status.fromThrowable(t).getCode());
    }

    @Override
    public void onCompleted() {
      ended(Status.Code.OK);
    }

    private void ended(Status.Code code) {
      byCode.computeIfAbsent(code, c -> new AtomicInteger()).incrementAndGet();
      ended.countDown();
    }

    int count(Status.Code code) {
      AtomicInteger n = byCode.get(code);
      return n == null ? 0 : n.get();
    }

    Map<Status.Code, AtomicInteger> codes() {
      return byCode;
    }

    void awaitAll(int seconds) throws InterruptedException {
      assertThat(ended.await(seconds, TimeUnit.SECONDS)).as("every call ended").isTrue();
    }
  }

  /** Counts a stream's answers and inline errors. */
  private static final class StreamCounter implements StreamObserver<ModelStreamInferResponse> {
    final AtomicInteger answered = new AtomicInteger();
    final AtomicInteger errors = new AtomicInteger();
    private final CountDownLatch end = new CountDownLatch(1);
    private final CountDownLatch first = new CountDownLatch(1);

    @Override
    public void onNext(ModelStreamInferResponse value) {
      (value.getErrorMessage().isEmpty() ? answered : errors).incrementAndGet();
      first.countDown();
    }

    @Override
    public void onError(Throwable t) {
      end.countDown();
    }

    @Override
    public void onCompleted() {
      end.countDown();
    }

    void awaitFirstAnswer(int seconds) throws InterruptedException {
      assertThat(first.await(seconds, TimeUnit.SECONDS)).isTrue();
    }

    void awaitEnd(int seconds) throws InterruptedException {
      assertThat(end.await(seconds, TimeUnit.SECONDS)).isTrue();
    }
  }
}
