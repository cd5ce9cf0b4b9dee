package io.junction.server.scheduling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.junction.proto.inference.DataType;
import io.junction.proto.inference.ModelConfig;
import io.junction.proto.inference.ModelInput;
import io.junction.proto.inference.ModelOutput;
import io.junction.server.backend.ExecutionTimings;
import io.junction.server.backend.LoadedModel;
import io.junction.server.backend.ModelSignature;
import io.junction.server.errors.InferenceFailedException;
import io.junction.server.errors.QueueFullException;
import io.junction.server.errors.RequestCancelledException;
import io.junction.server.errors.RequestTimeoutException;
import io.junction.server.model.ServedModel;
import io.junction.server.tensor.Tensor;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The scheduler against hand-written runners: one that blocks, one that fails. */
class DirectSchedulerTest {
  /** Holds every run until released, and counts runs. */
  static final class BlockingModel implements LoadedModel {
    final CountDownLatch release = new CountDownLatch(1);
    final CountDownLatch started = new CountDownLatch(1);
    final AtomicInteger runs = new AtomicInteger();

    @Override
    public ModelSignature signature() {
      return new ModelSignature(List.of(), List.of());
    }

    @Override
    public List<Tensor> run(Map<String, Tensor> inputs, List<String> outputs, ExecutionTimings timings) {
      runs.incrementAndGet();
      started.countDown();
      try {
        release.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return List.of();
    }

    @Override
    public void close() {}
  }

  static ServedModel served(LoadedModel backend) {
    ModelConfig config = ModelConfig.newBuilder().setName("fake").setMaxBatchSize(4)
        .addInput(ModelInput.newBuilder().setName("x").setDataType(DataType.TYPE_FP32).addDims(1))
        .addOutput(ModelOutput.newBuilder().setName("y").setDataType(DataType.TYPE_FP32).addDims(1)).build();
    return new ServedModel("fake", 1, config, backend);
  }

  static InferenceRequest request(ServedModel model, long deadline, boolean cancelled) {
    return new InferenceRequest("id", model, Map.of(), List.of("y"), 1, System.nanoTime(), deadline, () -> cancelled);
  }

  @Test
  void aFullQueueRejectsAtOnce() throws Exception {
    BlockingModel backend = new BlockingModel();
    ServedModel model = served(backend);
    // One worker and room for one waiting request: the third request has nowhere to go.
    try (DirectScheduler scheduler = new DirectScheduler(1, 1)) {
      CompletableFuture<InferenceResult> running = scheduler.submit(request(model, InferenceRequest.NO_DEADLINE, false));
      assertThat(backend.started.await(5, TimeUnit.SECONDS)).isTrue();
      CompletableFuture<InferenceResult> queued = scheduler.submit(request(model, InferenceRequest.NO_DEADLINE, false));
      assertThatThrownBy(() -> scheduler.submit(request(model, InferenceRequest.NO_DEADLINE, false)))
          .isInstanceOf(QueueFullException.class).hasMessageContaining("model 'fake' version 1", "queue is full");
      backend.release.countDown();
      assertThat(running.get(5, TimeUnit.SECONDS).modelName()).isEqualTo("fake");
      assertThat(queued.get(5, TimeUnit.SECONDS).modelVersion()).isEqualTo(1);
      assertThat(backend.runs).hasValue(2);
    }
  }

  @Test
  void expiredAndCancelledRequestsNeverRun() throws Exception {
    BlockingModel backend = new BlockingModel();
    backend.release.countDown();
    ServedModel model = served(backend);
    try (DirectScheduler scheduler = new DirectScheduler(1, 8)) {
      CompletableFuture<InferenceResult> expired = scheduler.submit(request(model, System.nanoTime() - 1, false));
      CompletableFuture<InferenceResult> cancelled = scheduler.submit(request(model, InferenceRequest.NO_DEADLINE, true));
      assertThatThrownBy(() -> expired.get(5, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
          .hasCauseInstanceOf(RequestTimeoutException.class).hasMessageContaining("passed its deadline");
      assertThatThrownBy(() -> cancelled.get(5, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
          .hasCauseInstanceOf(RequestCancelledException.class);
      assertThat(backend.runs).hasValue(0);
      assertThat(model.stats().snapshot().fail().count()).isEqualTo(2);
    }
  }

  @Test
  void aFailingBackendFailsOnlyItsRequest() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    LoadedModel flaky = new LoadedModel() {
      @Override
      public ModelSignature signature() {
        return new ModelSignature(List.of(), List.of());
      }

      @Override
      public List<Tensor> run(Map<String, Tensor> inputs, List<String> outputs, ExecutionTimings timings) {
        if (calls.incrementAndGet() == 1) {
          throw new IllegalStateException("kernel exploded");
        }
        return List.of();
      }

      @Override
      public void close() {}
    };
    ServedModel model = served(flaky);
    try (DirectScheduler scheduler = new DirectScheduler(1, 8)) {
      CompletableFuture<InferenceResult> first = scheduler.submit(request(model, InferenceRequest.NO_DEADLINE, false));
      assertThatThrownBy(() -> first.get(5, TimeUnit.SECONDS)).hasCauseInstanceOf(InferenceFailedException.class)
          .hasMessageContaining("kernel exploded");
      assertThat(scheduler.submit(request(model, InferenceRequest.NO_DEADLINE, false)).get(5, TimeUnit.SECONDS))
          .isNotNull();
    }
  }

  @Test
  void rejectsNonsenseSizes() {
    assertThatThrownBy(() -> new DirectScheduler(0, 1)).hasMessage("threads must be positive, got 0");
    assertThatThrownBy(() -> new DirectScheduler(1, 0)).hasMessage("queueCapacity must be positive, got 0");
  }
}
