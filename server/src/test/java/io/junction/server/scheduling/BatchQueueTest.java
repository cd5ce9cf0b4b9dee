package io.junction.server.scheduling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.TextFormat;
import io.junction.proto.inference.ModelConfig;
import io.junction.server.device.DeviceId;
import io.junction.server.errors.QueueFullException;
import io.junction.server.errors.QueueTimeoutException;
import io.junction.server.errors.RequestTimeoutException;
import io.junction.server.model.ModelInstances;
import io.junction.server.model.ServedModel;
import io.junction.server.tensor.DataType;
import io.junction.server.tensor.Tensor;
import io.opentelemetry.api.trace.Span;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Batch formation and timing decisions, single-threaded, with time passed in: no worker, no device,
 * no sleeping. Times are in nanoseconds from an arbitrary origin.
 */
class BatchQueueTest {
  private static final long MS = 1_000_000;

  private ServedModel model;
  private BatchPolicy policy;
  private BatchQueue queue;
  private long t;

  private void configure(String configText) throws Exception {
    ModelConfig.Builder config = ModelConfig.newBuilder();
    TextFormat.merge("""
        name: "fake"
        input [ { name: "x", data_type: TYPE_FP32, dims: [ -1 ] } ]
        output [ { name: "y", data_type: TYPE_FP32, dims: [ -1 ] } ]
        """ + configText, config);
    model = new ServedModel("fake", 1, config.build(),
        List.of(new ModelInstances(DeviceId.CPU, new IdentityRunner(0), 1)));
    policy = BatchPolicy.from(model.config(), 100);
    queue = new BatchQueue(policy, model.label());
  }

  /** Queues a request of {@code rows} rows of {@code cols} columns, arriving now. */
  private PendingRequest add(String id, int rows, int cols, int level, long deadline, long queueTimeout) {
    Tensor x = Tensor.fixed("x", DataType.FP32, new long[] {rows, cols}, ByteBuffer.allocate(rows * cols * 4));
    InferenceRequest r = new InferenceRequest(id, model, Map.of("x", x), List.of("y"), rows, t, deadline, () -> false,
        level, 0, Span.getInvalid());
    PendingRequest p = new PendingRequest(r, level == 0 ? policy.defaultPriorityLevel() : level, t, queueTimeout);
    queue.add(p);
    return p;
  }

  private PendingRequest add(String id, int rows) {
    return add(id, rows, 2, 0, InferenceRequest.NO_DEADLINE, 0);
  }

  private static List<String> ids(BatchQueue.Decision d) {
    return d.batch().stream().map(p -> p.request.id()).toList();
  }

  @Test
  void aBatchWaitsForTheMaxQueueDelayOnlyWhileMoreIsOnItsWay() throws Exception {
    configure("max_batch_size: 8\ndynamic_batching { preferred_batch_size: [ 8 ] max_queue_delay_microseconds: 2000 }");
    add("a", 1);
    // One request being decoded (incoming 1): worth waiting for, up to the 2 ms delay.
    BatchQueue.Decision early = queue.next(t, true, 1, false);
    assertThat(early.dispatch()).isFalse();
    assertThat(early.waitNanos()).isEqualTo(2 * MS);
    t += MS + MS / 2;
    assertThat(queue.next(t, true, 1, false).waitNanos()).isEqualTo(MS / 2);
    t += MS / 2;
    assertThat(ids(queue.next(t, true, 1, false))).containsExactly("a");
    assertThat(queue.waiting()).isZero();

    // Nothing on its way: waiting cannot grow the batch, so it goes at once.
    add("b", 1);
    assertThat(ids(queue.next(t, true, 0, false))).containsExactly("b");
  }

  @Test
  void aModelThatWaitsWhileIdleHoldsItsBatchForAFullSizeOrTheDelay() throws Exception {
    configure("""
        max_batch_size: 8
        dynamic_batching { preferred_batch_size: [ 4 ] max_queue_delay_microseconds: 2000 }
        parameters { key: "batch_wait_while_idle" value: { string_value: "true" } }
        """);
    add("a", 1);
    // Idle, nothing on its way: Triton's rule still waits for the preferred size, up to the delay.
    BatchQueue.Decision early = queue.next(t, true, 0, false);
    assertThat(early.dispatch()).isFalse();
    assertThat(early.waitNanos()).isEqualTo(2 * MS);
    add("b", 1);
    add("c", 1);
    t += MS;
    assertThat(queue.next(t, true, 0, false).waitNanos()).isEqualTo(MS);
    add("d", 1);
    assertThat(ids(queue.next(t, true, 0, false))).containsExactly("a", "b", "c", "d"); // the preferred size: now

    add("e", 1);
    t += 2 * MS - 1;
    assertThat(queue.next(t, true, 0, false).dispatch()).isFalse();
    t += 1;
    assertThat(ids(queue.next(t, true, 0, false))).containsExactly("e"); // the delay passed: what there is
  }

  @Test
  void waitingWhileIdleMustBeSaidPlainly() {
    assertThatThrownBy(() -> configure("""
        max_batch_size: 8
        dynamic_batching { max_queue_delay_microseconds: 2000 }
        parameters { key: "batch_wait_while_idle" value: { string_value: "yes" } }
        """)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("batch_wait_while_idle", "\"true\" or \"false\"", "\"yes\"");
  }

  @Test
  void aBusyModelWaitsWithoutFormingAndAClosingOneDrains() throws Exception {
    configure("max_batch_size: 8\ndynamic_batching { max_queue_delay_microseconds: 100000 }");
    add("a", 1);
    assertThat(queue.next(t, false, 0, false)).isEqualTo(BatchQueue.Decision.IDLE);
    assertThat(ids(queue.next(t, true, 5, true))).containsExactly("a"); // draining: goes now
  }

  @Test
  void preferredAndMaxSizesCutTheBatch() throws Exception {
    configure("max_batch_size: 8\ndynamic_batching { preferred_batch_size: [ 4 ] max_queue_delay_microseconds: 100000 }");
    for (int i = 0; i < 13; i++) {
      add("r" + i, 1);
    }
    // Full at the max (8), then at the preferred size (4), then one left that waits for company.
    assertThat(queue.next(t, true, 0, false).batch()).hasSize(8);
    assertThat(queue.next(t, true, 1, false).batch()).hasSize(4);
    BatchQueue.Decision last = queue.next(t, true, 1, false);
    assertThat(last.dispatch()).isFalse();
    assertThat(queue.waiting()).isEqualTo(1);
  }

  @Test
  void requestsOfSeveralRowsAreNeverSplitAndOnlySameShapesShare() throws Exception {
    configure("max_batch_size: 8\ndynamic_batching { max_queue_delay_microseconds: 100000 }");
    add("three", 3);
    add("six", 6);       // 3 + 6 > 8: skipped, not split
    add("wide", 1, 3, 0, InferenceRequest.NO_DEADLINE, 0); // other non-batch shape
    add("five", 5);      // 3 + 5 = 8: the max
    assertThat(ids(queue.next(t, true, 0, false))).containsExactly("three", "five");
    assertThat(ids(queue.next(t, true, 0, false))).containsExactly("six");
    assertThat(ids(queue.next(t, true, 0, false))).containsExactly("wide");
  }

  @Test
  void higherPriorityLevelsGoFirst() throws Exception {
    configure("max_batch_size: 1\ndynamic_batching { priority_levels: 3 default_priority_level: 2 }");
    add("low", 1, 2, 3, InferenceRequest.NO_DEADLINE, 0);
    add("normal", 1);
    add("high", 1, 2, 1, InferenceRequest.NO_DEADLINE, 0);
    List<String> order = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      order.addAll(ids(queue.next(t, true, 0, false)));
    }
    assertThat(order).containsExactly("high", "normal", "low");
  }

  @Test
  void aFullLevelRejectsAndTheCallerKeepsTheRequest() throws Exception {
    configure("max_batch_size: 4\ndynamic_batching { default_queue_policy { max_queue_size: 2 } }");
    add("a", 1);
    add("b", 1);
    assertThatThrownBy(() -> add("c", 1)).isInstanceOf(QueueFullException.class)
        .hasMessageContaining("model 'fake' version 1", "priority level 1 is full", "2 requests");
    assertThat(queue.waiting()).isEqualTo(2);
  }

  @Test
  void deadlinesAndRejectTimeoutsExpireAtTheirTime() throws Exception {
    configure("max_batch_size: 4\ndynamic_batching { default_queue_policy { timeout_action: REJECT "
        + "default_timeout_microseconds: 50000 } }");
    add("deadline", 1, 2, 0, t + 10 * MS, 50 * MS);
    add("timeout", 1, 2, 0, InferenceRequest.NO_DEADLINE, 50 * MS);
    List<BatchQueue.Expired> expired = new ArrayList<>();
    // Busy model: the wait ends at the first expiry.
    assertThat(queue.next(t, false, 0, false).waitNanos()).isEqualTo(10 * MS);

    t += 10 * MS;
    queue.expire(t, expired);
    assertThat(expired).singleElement().satisfies(e -> {
      assertThat(e.request().request.id()).isEqualTo("deadline");
      assertThat(e.reason()).isInstanceOf(RequestTimeoutException.class).hasMessageContaining("passed its deadline");
    });
    assertThat(queue.next(t, false, 0, false).waitNanos()).isEqualTo(40 * MS);

    expired.clear();
    t += 40 * MS;
    queue.expire(t, expired);
    assertThat(expired).singleElement().satisfies(e ->
        assertThat(e.reason()).isInstanceOf(QueueTimeoutException.class).hasMessageContaining("50000 µs"));
    assertThat(queue.waiting()).isZero();
  }

  @Test
  void delayedRequestsRunAfterTheOnesStillInTime() throws Exception {
    configure("max_batch_size: 1\ndynamic_batching { default_queue_policy { timeout_action: DELAY "
        + "default_timeout_microseconds: 20000 } }");
    add("old", 1, 2, 0, InferenceRequest.NO_DEADLINE, 20 * MS);
    t += 100 * MS; // past its 20 ms timeout: delayed, not dropped
    add("fresh", 1, 2, 0, InferenceRequest.NO_DEADLINE, 20 * MS);
    List<BatchQueue.Expired> expired = new ArrayList<>();
    queue.expire(t, expired);
    assertThat(expired).isEmpty();
    assertThat(ids(queue.next(t, true, 0, false))).containsExactly("fresh");
    assertThat(ids(queue.next(t, true, 0, false))).containsExactly("old");
  }

  @Test
  void aRemovedRequestIsNoLongerWaiting() throws Exception {
    configure("max_batch_size: 4\ndynamic_batching { }");
    PendingRequest gone = add("gone", 1);
    add("kept", 1);
    assertThat(queue.remove(gone)).isTrue();
    assertThat(queue.remove(gone)).isFalse();
    assertThat(ids(queue.next(t, true, 0, false))).containsExactly("kept");
  }
}
