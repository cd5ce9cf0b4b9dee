package io.junction.server.scheduling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.TextFormat;
import io.junction.proto.inference.ModelConfig;
import io.junction.server.errors.QueueFullException;
import io.junction.server.errors.QueueTimeoutException;
import io.junction.server.errors.RequestTimeoutException;
import io.junction.server.device.DeviceId;
import io.junction.server.model.ModelInstances;
import io.junction.server.model.ServedModel;
import io.junction.server.tensor.BufferLease;
import io.junction.server.tensor.BufferPool;
import io.junction.server.tensor.DataType;
import io.junction.server.tensor.Tensor;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.TracerProvider;
import io.prometheus.metrics.core.metrics.Histogram;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The batcher against hand-written runners; no model files, no transport. */
class DynamicBatcherTest {
  /** The model parameter that holds batches for their preferred size while an instance is idle. */
  private static final String WAITS_WHILE_IDLE =
      "parameters { key: \"batch_wait_while_idle\" value: { string_value: \"true\" } }\n";

  private final DeviceScheduler device = new DeviceScheduler("cpu", 4);
  private final BatchRunner runner = new BatchRunner(new BufferPool(1 << 20, 1 << 20));
  private final List<DynamicBatcher> batchers = new ArrayList<>();

  @AfterEach
  void tearDown() {
    batchers.forEach(DynamicBatcher::close);
    device.close();
  }

  private DynamicBatcher batcher(IdentityRunner backend, String configText) throws Exception {
    return batcher(backend, configText, System::nanoTime);
  }

  private DynamicBatcher batcher(IdentityRunner backend, String configText, LongSupplier clock) throws Exception {
    return batcher(backend, configText, clock, 0);
  }

  /** @param runHereBelowNanos see {@link DynamicBatcher}; 0 runs every batch on the device's thread */
  private DynamicBatcher batcher(IdentityRunner backend, String configText, LongSupplier clock, long runHereBelowNanos)
      throws Exception {
    ModelConfig.Builder config = ModelConfig.newBuilder();
    TextFormat.merge("""
        name: "fake"
        input [ { name: "x", data_type: TYPE_FP32, dims: [ -1 ] } ]
        output [ { name: "y", data_type: TYPE_FP32, dims: [ -1 ] } ]
        """ + configText, config);
    // One CPU copy; the batcher takes its instance count from the policy (BatchPolicy.instances).
    ServedModel model = new ServedModel("fake", 1, config.build(), List.of(new ModelInstances(DeviceId.CPU, backend, 1)));
    BatchExecution execution = new BatchExecution(model, runner, TracerProvider.noop().get("test"), "cpu",
        Histogram.builder().name("test_batch_size").build().labelValues());
    DynamicBatcher b = new DynamicBatcher(model, BatchPolicy.from(model.config(), 100),
        List.of(new DynamicBatcher.Lane(device, execution, BatchPolicy.from(model.config(), 100).instances())), clock,
        runHereBelowNanos);
    batchers.add(b);
    return b;
  }

  /** A request of {@code rows} rows and {@code cols} columns whose every value is {@code value}. */
  private static InferenceRequest request(DynamicBatcher b, ServedModel model, int rows, int cols, float value,
      int priority, long deadline) {
    return request(b, model, rows, cols, value, priority, deadline, BufferLease.none(), true);
  }

  private static InferenceRequest request(DynamicBatcher b, ServedModel model, int rows, int cols, float value,
      int priority, long deadline, BufferLease memory, boolean callerMayRun) {
    ByteBuffer data = ByteBuffer.allocate(rows * cols * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < rows * cols; i++) {
      data.putFloat(value);
    }
    data.flip();
    Tensor x = Tensor.fixed("x", DataType.FP32, new long[] {rows, cols}, data);
    return new InferenceRequest("r" + value, model, Map.of("x", x), List.of("y"), rows, System.nanoTime(), deadline,
        () -> false, priority, 0, Span.getInvalid(), memory, callerMayRun);
  }

  /**
   * A model without dynamic batching (so the device thread takes queued requests itself) whose worker counts into
   * {@code reads} each clock read: it reads the clock each time it wakes, so the count is its wake-ups.
   */
  private DynamicBatcher batcherCountingWorkerWakeUps(IdentityRunner backend, AtomicLong reads) throws Exception {
    return batcher(backend, "max_batch_size: 8", countingWorkerReads(System::nanoTime, reads));
  }

  /** {@code clock}, counting into {@code reads} each read by the batcher's worker (once each time it wakes). */
  private static LongSupplier countingWorkerReads(LongSupplier clock, AtomicLong reads) {
    return () -> {
      if (Thread.currentThread().getName().startsWith("junction-batcher-")) {
        reads.incrementAndGet();
      }
      return clock.getAsLong();
    };
  }

  private CompletableFuture<InferenceResult> submit(DynamicBatcher b, int rows, int cols, float value) {
    return submit(b, rows, cols, value, 0, InferenceRequest.NO_DEADLINE);
  }

  private CompletableFuture<InferenceResult> submit(DynamicBatcher b, int rows, int cols, float value, int priority,
      long deadline) {
    ServedModel model = modelOf(b);
    return b.admit().submit(request(b, model, rows, cols, value, priority, deadline));
  }

  private static ServedModel modelOf(DynamicBatcher b) {
    return b.model();
  }

  /** Occupies the model's only instance until the runner is opened. */
  private CompletableFuture<InferenceResult> blockInstance(DynamicBatcher b, IdentityRunner backend) throws Exception {
    backend.hold();
    CompletableFuture<InferenceResult> blocker = submit(b, 1, 2, -1f);
    assertThat(backend.firstStarted.await(5, TimeUnit.SECONDS)).isTrue();
    return blocker;
  }

  private static void assertOwnRows(InferenceResult result, int rows, int cols, float value) {
    Tensor y = result.outputs().get(0);
    assertThat(y.shape()).containsExactly(rows, cols);
    ByteBuffer data = y.data();
    for (int i = 0; i < rows * cols; i++) {
      assertThat(data.getFloat(i * 4)).isEqualTo(value);
    }
  }

  @Test
  void preferredAndMaxSizesAreRespected() throws Exception {
    IdentityRunner backend = new IdentityRunner(0);
    DynamicBatcher b = batcher(backend, """
        max_batch_size: 8
        dynamic_batching { preferred_batch_size: [ 4 ], max_queue_delay_microseconds: 100000 }
        """);
    CompletableFuture<InferenceResult> blocker = blockInstance(b, backend);
    // Thirteen single rows wait behind the blocker: one batch of the max (8), one of the preferred size
    // (4), and the last one alone.
    List<CompletableFuture<InferenceResult>> futures = new ArrayList<>();
    for (int i = 0; i < 13; i++) {
      futures.add(submit(b, 1, 2, i));
    }
    await().until(() -> b.waiting() == 13);
    backend.open();
    blocker.get(5, TimeUnit.SECONDS);
    for (int i = 0; i < 13; i++) {
      assertOwnRows(futures.get(i).get(5, TimeUnit.SECONDS), 1, 2, i);
    }
    assertThat(backend.runs.stream().map(IdentityRunner.Run::rows).collect(Collectors.toList()))
        .containsExactly(1L, 8L, 4L, 1L);
    assertThat(modelOf(b).stats().snapshot().executionCount()).isEqualTo(4);
    assertThat(modelOf(b).stats().snapshot().inferenceCount()).isEqualTo(14);
  }

  @Test
  void requestsWithSeveralRowsGetExactlyTheirOwnRows() throws Exception {
    IdentityRunner backend = new IdentityRunner(0);
    DynamicBatcher b = batcher(backend, "max_batch_size: 16\ndynamic_batching { max_queue_delay_microseconds: 100000 }");
    CompletableFuture<InferenceResult> blocker = blockInstance(b, backend);
    CompletableFuture<InferenceResult> three = submit(b, 3, 2, 7f);
    CompletableFuture<InferenceResult> five = submit(b, 5, 2, 9f);
    CompletableFuture<InferenceResult> one = submit(b, 1, 2, 11f);
    await().until(() -> b.waiting() == 3);
    backend.open();
    blocker.get(5, TimeUnit.SECONDS);
    assertOwnRows(three.get(5, TimeUnit.SECONDS), 3, 2, 7f);
    assertOwnRows(five.get(5, TimeUnit.SECONDS), 5, 2, 9f);
    assertOwnRows(one.get(5, TimeUnit.SECONDS), 1, 2, 11f);
    assertThat(backend.runs.get(1).rows()).isEqualTo(9);
  }

  @Test
  void onlyRequestsOfTheSameShapeShareABatch() throws Exception {
    IdentityRunner backend = new IdentityRunner(0);
    DynamicBatcher b = batcher(backend, "max_batch_size: 8\ndynamic_batching { max_queue_delay_microseconds: 100000 }");
    CompletableFuture<InferenceResult> blocker = blockInstance(b, backend);
    List<CompletableFuture<InferenceResult>> two = new ArrayList<>();
    List<CompletableFuture<InferenceResult>> three = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      two.add(submit(b, 1, 2, 100 + i));
      three.add(submit(b, 1, 3, 200 + i));
    }
    await().until(() -> b.waiting() == 6);
    backend.open();
    blocker.get(5, TimeUnit.SECONDS);
    for (int i = 0; i < 3; i++) {
      assertOwnRows(two.get(i).get(5, TimeUnit.SECONDS), 1, 2, 100 + i);
      assertOwnRows(three.get(i).get(5, TimeUnit.SECONDS), 1, 3, 200 + i);
    }
    assertThat(backend.runs.subList(1, backend.runs.size())).extracting(IdentityRunner.Run::rows).containsExactly(3L, 3L);
  }

  @Test
  void theWorkerDispatchesOnceTheClockPassesTheQueueDelay() throws Exception {
    IdentityRunner backend = new IdentityRunner(0);
    AtomicLong clock = new AtomicLong();
    DynamicBatcher b = batcher(backend, """
        max_batch_size: 8
        dynamic_batching { preferred_batch_size: [ 8 ], max_queue_delay_microseconds: 50000 }
        """, clock::get);
    InferenceScheduler.Ticket onItsWay = b.admit(); // a request being decoded: worth waiting for
    CompletableFuture<InferenceResult> lone = submit(b, 1, 2, 1f);
    assertThat(b.waiting()).isEqualTo(1); // queued: the clock has not moved, so the delay has not passed
    clock.addAndGet(50_000_000);
    assertOwnRows(lone.get(5, TimeUnit.SECONDS), 1, 2, 1f);
    assertThat(backend.runs).extracting(IdentityRunner.Run::rows).containsExactly(1L);
    onItsWay.abandon();
  }

  @Test
  void anIdleInstanceDoesNotWaitForTheTimerWhenNothingIsComing() throws Exception {
    IdentityRunner backend = new IdentityRunner(0);
    DynamicBatcher b = batcher(backend, """
        max_batch_size: 8
        dynamic_batching { preferred_batch_size: [ 8 ], max_queue_delay_microseconds: 30000000 }
        """);
    long start = System.nanoTime();
    submit(b, 1, 2, 1f).get(5, TimeUnit.SECONDS);
    // 30 s delay configured; it ran at once because no other request was admitted.
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
  }

  @Test
  void aModelThatWaitsWhileIdleRunsALoneRequestOnlyOnceTheDelayPassed() throws Exception {
    IdentityRunner backend = new IdentityRunner(0);
    AtomicLong clock = new AtomicLong();
    DynamicBatcher b = batcher(backend, """
        max_batch_size: 8
        dynamic_batching { preferred_batch_size: [ 3 ], max_queue_delay_microseconds: 50000 }
        """ + WAITS_WHILE_IDLE, clock::get);
    CompletableFuture<InferenceResult> first = submit(b, 1, 2, 1f);
    CompletableFuture<InferenceResult> second = submit(b, 1, 2, 2f);
    assertThat(b.waiting()).isEqualTo(2); // an idle instance, nothing on its way, and still they wait for a third
    CompletableFuture<InferenceResult> third = submit(b, 1, 2, 3f);
    assertOwnRows(first.get(5, TimeUnit.SECONDS), 1, 2, 1f);
    assertOwnRows(second.get(5, TimeUnit.SECONDS), 1, 2, 2f);
    assertOwnRows(third.get(5, TimeUnit.SECONDS), 1, 2, 3f);
    assertThat(backend.runs).extracting(IdentityRunner.Run::rows).containsExactly(3L);

    CompletableFuture<InferenceResult> lone = submit(b, 1, 2, 4f);
    assertThat(b.waiting()).isEqualTo(1);
    clock.addAndGet(50_000_000);
    assertOwnRows(lone.get(5, TimeUnit.SECONDS), 1, 2, 4f);
    assertThat(backend.runs).extracting(IdentityRunner.Run::rows).containsExactly(3L, 1L);
  }

  @Test
  void aBatchFillingWhileItsInstanceIsIdleWakesTheWorkerOnlyToSetItsTimerAndToSendIt() throws Exception {
    IdentityRunner backend = new IdentityRunner(0);
    AtomicLong workerReads = new AtomicLong();
    AtomicLong clock = new AtomicLong();
    DynamicBatcher b = batcher(backend, """
        max_batch_size: 32
        dynamic_batching { preferred_batch_size: [ 16 ], max_queue_delay_microseconds: 10000000 }
        """ + WAITS_WHILE_IDLE, countingWorkerReads(clock::get, workerReads));
    List<CompletableFuture<InferenceResult>> calls = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      calls.add(submit(b, 1, 2, i));
      Thread.sleep(2); // arrivals apart, as callers' are: a worker woken by each would have had time to wake
    }
    for (int i = 0; i < 16; i++) {
      assertOwnRows(calls.get(i).get(5, TimeUnit.SECONDS), 1, 2, i);
    }
    assertThat(backend.runs).extracting(IdentityRunner.Run::rows).containsExactly(16L);
    // The first arrival (to set the timer) and the sixteenth (a full batch): a worker woken by every arrival would
    // have read the clock sixteen times.
    assertThat(workerReads.get()).isLessThan(6);
  }

  @Test
  void higherPriorityRunsFirst() throws Exception {
    IdentityRunner backend = new IdentityRunner(0);
    DynamicBatcher b = batcher(backend, "max_batch_size: 1\ndynamic_batching { priority_levels: 3 default_priority_level: 2 }");
    CompletableFuture<InferenceResult> blocker = blockInstance(b, backend);
    CompletableFuture<InferenceResult> low = submit(b, 1, 2, 30f, 3, InferenceRequest.NO_DEADLINE);
    CompletableFuture<InferenceResult> normal = submit(b, 1, 2, 20f, 0, InferenceRequest.NO_DEADLINE);
    // A level the model does not have is its default (2), as in Triton: after the highest, before the lowest.
    CompletableFuture<InferenceResult> beyond = submit(b, 1, 2, 25f, 4, InferenceRequest.NO_DEADLINE);
    CompletableFuture<InferenceResult> high = submit(b, 1, 2, 10f, 1, InferenceRequest.NO_DEADLINE);
    await().until(() -> b.waiting() == 4);
    backend.open();
    CompletableFuture.allOf(blocker, low, normal, beyond, high).get(5, TimeUnit.SECONDS);
    assertThat(backend.runs).extracting(IdentityRunner.Run::first).containsExactly(-1f, 10f, 20f, 25f, 30f);
  }

  @Test
  void aFullQueueRejectsAtOnce() throws Exception {
    IdentityRunner backend = new IdentityRunner(0);
    DynamicBatcher b = batcher(backend, """
        max_batch_size: 4
        dynamic_batching { default_queue_policy { max_queue_size: 2 } }
        """);
    CompletableFuture<InferenceResult> blocker = blockInstance(b, backend);
    CompletableFuture<InferenceResult> first = submit(b, 1, 2, 1f);
    CompletableFuture<InferenceResult> second = submit(b, 1, 2, 2f);
    assertThatThrownBy(() -> submit(b, 1, 2, 3f)).isInstanceOf(QueueFullException.class)
        .hasMessageContaining("model 'fake' version 1", "queue of priority level 1 is full", "2 requests");
    backend.open();
    CompletableFuture.allOf(blocker, first, second).get(5, TimeUnit.SECONDS);
  }

  @Test
  void queueTimeoutRejectsWithoutRunning() throws Exception {
    IdentityRunner backend = new IdentityRunner(0);
    DynamicBatcher b = batcher(backend, """
        max_batch_size: 4
        dynamic_batching { default_queue_policy { timeout_action: REJECT default_timeout_microseconds: 50000 } }
        """);
    CompletableFuture<InferenceResult> blocker = blockInstance(b, backend);
    CompletableFuture<InferenceResult> late = submit(b, 1, 2, 5f);
    assertThatThrownBy(() -> late.get(5, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
        .hasCauseInstanceOf(QueueTimeoutException.class).hasMessageContaining("past its queue timeout");
    backend.open();
    blocker.get(5, TimeUnit.SECONDS);
    assertThat(backend.runs).extracting(IdentityRunner.Run::first).containsExactly(-1f);
  }

  @Test
  void delayedRequestsRunAfterTheOnesStillInTime() throws Exception {
    IdentityRunner backend = new IdentityRunner(0);
    AtomicLong clock = new AtomicLong();
    DynamicBatcher b = batcher(backend, """
        max_batch_size: 1
        dynamic_batching { default_queue_policy { timeout_action: DELAY default_timeout_microseconds: 20000 } }
        """, clock::get);
    CompletableFuture<InferenceResult> blocker = blockInstance(b, backend);
    CompletableFuture<InferenceResult> old = submit(b, 1, 2, 1f);
    clock.addAndGet(100_000_000); // past its 20 ms timeout: delayed, not dropped
    CompletableFuture<InferenceResult> fresh = submit(b, 1, 2, 2f);
    backend.open();
    CompletableFuture.allOf(blocker, old, fresh).get(5, TimeUnit.SECONDS);
    assertThat(backend.runs).extracting(IdentityRunner.Run::first).containsExactly(-1f, 2f, 1f);
  }

  @Test
  void expiredDeadlinesAreAnsweredWithoutRunning() throws Exception {
    IdentityRunner backend = new IdentityRunner(0);
    DynamicBatcher b = batcher(backend, "max_batch_size: 4\ndynamic_batching { }");
    CompletableFuture<InferenceResult> blocker = blockInstance(b, backend);
    CompletableFuture<InferenceResult> doomed = submit(b, 1, 2, 5f, 0, System.nanoTime() + 50_000_000);
    assertThatThrownBy(() -> doomed.get(5, TimeUnit.SECONDS)).hasCauseInstanceOf(RequestTimeoutException.class)
        .hasMessageContaining("passed its deadline", "did not run");
    backend.open();
    blocker.get(5, TimeUnit.SECONDS);
    assertThat(backend.runs).hasSize(1);
  }

  @Test
  void everyRequestEndsInExactlyOneOutcome() throws Exception {
    IdentityRunner backend = new IdentityRunner(0);
    DynamicBatcher b = batcher(backend, "max_batch_size: 4\ndynamic_batching { }");
    backend.hold();
    InferenceScheduler.Ticket onItsWay = b.admit(); // keeps every request on the queue path
    CompletableFuture<InferenceResult> running = submit(b, 1, 2, 1f);
    await().until(() -> backend.runs.size() == 1);
    running.cancel(false); // cancelled while it runs: one failure, and no success when the run ends
    CompletableFuture<InferenceResult> answered = submit(b, 1, 2, 2f);
    CompletableFuture<InferenceResult> gone = submit(b, 1, 2, 3f);
    await().until(() -> b.waiting() == 2);
    gone.cancel(false); // cancelled while it waits
    backend.open();
    assertOwnRows(answered.get(5, TimeUnit.SECONDS), 1, 2, 2f);
    onItsWay.abandon();
    await().untilAsserted(() -> {
      var stats = modelOf(b).stats().snapshot();
      assertThat(stats.success().count()).as("successes").isEqualTo(1);
      assertThat(stats.fail().count()).as("failures").isEqualTo(2);
    });
  }

  @Test
  void theInputsMemoryGoesBackOnceNoBatchReadsItNotWhenTheCallerLeaves() throws Exception {
    IdentityRunner backend = new IdentityRunner(0);
    DynamicBatcher b = batcher(backend, "max_batch_size: 4\ndynamic_batching { }");
    BufferPool pool = new BufferPool(1 << 20, 1 << 20);
    ByteBuffer runningBuffer = pool.acquire(8 << 10);
    ByteBuffer waitingBuffer = pool.acquire(16 << 10);
    backend.hold();
    CompletableFuture<InferenceResult> running = b.admit().submit(request(b, modelOf(b), 1, 2, 1f, 0,
        InferenceRequest.NO_DEADLINE, BufferLease.of(pool, runningBuffer), true));
    await().until(() -> backend.runs.size() == 1);
    CompletableFuture<InferenceResult> waiting = b.admit().submit(request(b, modelOf(b), 1, 2, 2f, 0,
        InferenceRequest.NO_DEADLINE, BufferLease.of(pool, waitingBuffer), true));
    await().until(() -> b.waiting() == 1);

    waiting.cancel(false); // out of the queue: no batch will read it
    assertThat(pool.acquire(16 << 10)).as("the waiting request's buffer, back at once").isSameAs(waitingBuffer);
    running.cancel(false); // its batch still runs: the buffer stays out of the pool until the run ends
    assertThat(pool.acquire(8 << 10)).as("a new buffer while the batch still reads the old one").isNotSameAs(runningBuffer);
    backend.open();
    await().untilAsserted(() -> assertThat(pool.acquire(8 << 10)).as("back once the run ended").isSameAs(runningBuffer));
  }

  @Test
  void aCancelledRequestLeavesTheQueue() throws Exception {
    IdentityRunner backend = new IdentityRunner(0);
    DynamicBatcher b = batcher(backend, "max_batch_size: 4\ndynamic_batching { }");
    CompletableFuture<InferenceResult> blocker = blockInstance(b, backend);
    CompletableFuture<InferenceResult> gone = submit(b, 1, 2, 5f);
    await().until(() -> b.waiting() == 1);
    gone.cancel(false);
    assertThat(b.waiting()).isZero();
    backend.open();
    blocker.get(5, TimeUnit.SECONDS);
    assertThat(backend.runs).hasSize(1);
  }

  @Test
  void withoutDynamicBatchingEachRequestRunsAlone() throws Exception {
    IdentityRunner backend = new IdentityRunner(0);
    DynamicBatcher b = batcher(backend, "max_batch_size: 8");
    CompletableFuture<InferenceResult> blocker = blockInstance(b, backend);
    List<CompletableFuture<InferenceResult>> futures = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      futures.add(submit(b, 2, 2, i));
    }
    backend.open();
    for (int i = 0; i < 4; i++) {
      assertOwnRows(futures.get(i).get(5, TimeUnit.SECONDS), 2, 2, i);
    }
    blocker.get(5, TimeUnit.SECONDS);
    assertThat(backend.runs).extracting(IdentityRunner.Run::rows).containsExactly(1L, 2L, 2L, 2L, 2L);
  }

  @Test
  void underLoadTheDeviceThreadTakesTheNextRequestWithoutWakingTheWorker() throws Exception {
    IdentityRunner backend = new IdentityRunner(0);
    AtomicLong workerReads = new AtomicLong();
    DynamicBatcher b = batcherCountingWorkerWakeUps(backend, workerReads);
    CompletableFuture<InferenceResult> blocker = blockInstance(b, backend);
    List<CompletableFuture<InferenceResult>> queued = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      queued.add(submit(b, 1, 2, i));
    }
    long readsBefore = workerReads.get();
    backend.open();
    for (int i = 0; i < 20; i++) {
      assertOwnRows(queued.get(i).get(5, TimeUnit.SECONDS), 1, 2, i);
    }
    blocker.get(5, TimeUnit.SECONDS);
    // Twenty batches ran one after another; a worker woken for each would have read the clock twenty times.
    assertThat(workerReads.get() - readsBefore).isLessThan(5);
    assertThat(backend.runs).hasSize(21);
  }

  @Test
  void aLoneRequestOnAnIdleInstanceWakesOnlyTheDeviceThread() throws Exception {
    IdentityRunner backend = new IdentityRunner(0);
    AtomicLong workerReads = new AtomicLong();
    DynamicBatcher b = batcherCountingWorkerWakeUps(backend, workerReads);
    submit(b, 1, 2, -1f).get(5, TimeUnit.SECONDS);
    Thread.sleep(20); // the worker's first look at the empty queue
    long readsBefore = workerReads.get();
    for (int i = 0; i < 20; i++) {
      assertOwnRows(submit(b, 1, 2, i).get(5, TimeUnit.SECONDS), 1, 2, i);
    }
    // Twenty calls one after another, each on an idle instance; a worker woken by their admissions or by
    // their finishing would have read the clock at least twenty times.
    assertThat(workerReads.get() - readsBefore).isLessThan(5);
    assertThat(backend.runs).hasSize(21);
  }

  @Test
  void aLoneRequestOfAModelWhoseRunsAreShortRunsOnTheThreadThatSubmittedIt() throws Exception {
    IdentityRunner backend = new IdentityRunner(0);
    DynamicBatcher b = batcher(backend, "max_batch_size: 8", System::nanoTime, TimeUnit.SECONDS.toNanos(1));
    submit(b, 1, 2, 0).get(5, TimeUnit.SECONDS); // its run time unknown yet: the device's thread runs it
    assertThat(backend.threads.get(0).getName()).startsWith("junction-cpu");
    // It answers just before it finishes, and its thread gives the device's slot back after that.
    await().atMost(Duration.ofSeconds(5)).until(() -> b.running() == 0 && device.running() == 0);
    for (int i = 1; i <= 5; i++) {
      CompletableFuture<InferenceResult> answer = submit(b, 1, 2, i);
      assertThat(answer).as("answered before submit returned").isDone();
      assertOwnRows(answer.get(), 1, 2, i);
      assertThat(backend.threads.get(i)).isSameAs(Thread.currentThread());
    }
    // Another thread's lone request holds the instance (running where it was submitted); one that finds the
    // instance busy queues, and the device's thread runs it, not the thread that submitted it.
    backend.hold();
    CompletableFuture<CompletableFuture<InferenceResult>> blocker = CompletableFuture.supplyAsync(() -> submit(b, 1, 2, 6));
    assertThat(backend.firstStarted.await(5, TimeUnit.SECONDS)).isTrue();
    await().atMost(Duration.ofSeconds(5)).until(() -> backend.runs.size() == 7);
    CompletableFuture<InferenceResult> queued = submit(b, 1, 2, 7);
    assertThat(queued).isNotDone();
    backend.open();
    assertOwnRows(queued.get(5, TimeUnit.SECONDS), 1, 2, 7);
    assertOwnRows(blocker.get(5, TimeUnit.SECONDS).get(5, TimeUnit.SECONDS), 1, 2, 6);
    assertThat(backend.threads.get(6)).isNotSameAs(Thread.currentThread());
    assertThat(backend.threads.get(7).getName()).startsWith("junction-cpu");
  }

  @Test
  void aLoneRequestWhoseCallerMayNotRunItRunsOnTheDevicesThread() throws Exception {
    IdentityRunner backend = new IdentityRunner(0);
    DynamicBatcher b = batcher(backend, "max_batch_size: 8", System::nanoTime, TimeUnit.SECONDS.toNanos(1));
    submit(b, 1, 2, 0).get(5, TimeUnit.SECONDS); // its runs' time known from here on: short
    await().atMost(Duration.ofSeconds(5)).until(() -> b.running() == 0 && device.running() == 0);
    for (int i = 1; i <= 3; i++) {
      InferenceRequest fromEventLoop = request(b, b.model(), 1, 2, i, 0, InferenceRequest.NO_DEADLINE,
          BufferLease.none(), false);
      assertOwnRows(b.admit().submit(fromEventLoop).get(5, TimeUnit.SECONDS), 1, 2, i);
      assertThat(backend.threads.get(i).getName()).startsWith("junction-cpu");
      await().atMost(Duration.ofSeconds(5)).until(() -> b.running() == 0 && device.running() == 0);
    }
    assertOwnRows(submit(b, 1, 2, 4).get(5, TimeUnit.SECONDS), 1, 2, 4);
    assertThat(backend.threads.get(4)).as("one whose caller may run it still does").isSameAs(Thread.currentThread());
  }

  @Test
  void aLoneRequestOfAModelWhoseRunsAreLongerRunsOnTheDevicesThread() throws Exception {
    IdentityRunner backend = new IdentityRunner(2);
    DynamicBatcher b = batcher(backend, "max_batch_size: 8", System::nanoTime, TimeUnit.MILLISECONDS.toNanos(1));
    for (int i = 0; i < 5; i++) {
      assertOwnRows(submit(b, 1, 2, i).get(5, TimeUnit.SECONDS), 1, 2, i);
    }
    assertThat(backend.threads).hasSize(5).allSatisfy(t -> assertThat(t.getName()).startsWith("junction-cpu"));
  }

  @Test
  void instancesBoundConcurrentBatchesOfOneModel() throws Exception {
    IdentityRunner backend = new IdentityRunner(20);
    DynamicBatcher b = batcher(backend, "max_batch_size: 1\ninstance_group [ { count: 2, kind: KIND_CPU } ]");
    List<CompletableFuture<InferenceResult>> futures = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      futures.add(submit(b, 1, 2, i));
    }
    CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
    assertThat(backend.peak.get()).isEqualTo(2);
  }
}
