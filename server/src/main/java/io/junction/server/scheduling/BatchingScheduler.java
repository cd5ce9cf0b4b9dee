package io.junction.server.scheduling;

import io.junction.server.errors.ModelUnavailableException;
import io.junction.server.model.ModelInstances;
import io.junction.server.model.ServedModel;
import io.junction.server.telemetry.Buckets;
import io.junction.server.tensor.BufferPool;
import io.opentelemetry.api.trace.Tracer;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's scheduler: one {@link DynamicBatcher} per served model version, created on its first
 * request and stopped when the version closes, all sharing the CPU's {@link DeviceScheduler}.
 */
public final class BatchingScheduler implements InferenceScheduler {
  private static final Logger log = LoggerFactory.getLogger(BatchingScheduler.class);
  /** Idle batch buffers kept for reuse, across all models. */
  private static final long POOLED_BYTES = 256L << 20;
  private static final long MAX_POOLED_BUFFER = 64L << 20;
  /**
   * A lone request of a model whose batches run shorter than this runs on the thread that submitted it (see
   * DynamicBatcher). Handing a request to the device's thread costs a wake-up and a context switch each way, a few
   * µs of CPU and tens of µs of latency on a busy core (BENCHMARKS.md, "A lone call runs where it arrives"): a large
   * share of a run this short, a small one of anything longer, which then should not hold gRPC's shared threads.
   */
  static final long RUN_HERE_BELOW_NANOS = TimeUnit.MICROSECONDS.toNanos(100);

  private final DeviceRegistry devices;
  /** Whether {@link #devices} was made here, and so is closed here. */
  private final boolean ownsDevices;
  /** Batch inputs concatenated from several requests, and outputs written in place. */
  private final BufferPool batchBuffers = new BufferPool(POOLED_BYTES, MAX_POOLED_BUFFER);
  private final BatchRunner runner = new BatchRunner(batchBuffers);
  private final int defaultMaxQueueSize;
  private final Map<ServedModel, DynamicBatcher> batchers = new ConcurrentHashMap<>();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final Tracer tracer;
  private final Histogram batchSize;

  /**
   * @param cpuSlots executions that may run on the CPU at once, over all models
   * @param defaultMaxQueueSize bound of each model's queues where its config sets none
   * @param tracer records batch spans
   */
  public BatchingScheduler(int cpuSlots, int defaultMaxQueueSize, Tracer tracer) {
    this(cpuSlots, defaultMaxQueueSize, tracer, new PrometheusRegistry());
  }

  /** @param metrics where the scheduler exposes queue depths and batch sizes */
  public BatchingScheduler(int cpuSlots, int defaultMaxQueueSize, Tracer tracer, PrometheusRegistry metrics) {
    this(DeviceRegistry.cpuOnly(cpuSlots), true, defaultMaxQueueSize, tracer, metrics);
  }

  /**
   * @param devices the devices models are placed on; the caller closes them after this scheduler
   * @param metrics where the scheduler exposes queue depths and batch sizes
   */
  public BatchingScheduler(DeviceRegistry devices, int defaultMaxQueueSize, Tracer tracer, PrometheusRegistry metrics) {
    this(devices, false, defaultMaxQueueSize, tracer, metrics);
  }

  private BatchingScheduler(DeviceRegistry devices, boolean ownsDevices, int defaultMaxQueueSize, Tracer tracer,
      PrometheusRegistry metrics) {
    this.devices = devices;
    this.ownsDevices = ownsDevices;
    this.tracer = tracer;
    this.batchSize = Histogram.builder()
        .name("junction_batch_size")
        .help("Rows per model execution")
        .labelNames("model", "version")
        .classicUpperBounds(Buckets.BATCH_ROWS)
        .classicOnly()
        .register(metrics);
    GaugeWithCallback.builder().name("junction_queue_size")
        .help("Requests waiting in a model version's queue")
        .labelNames("model", "version")
        .callback(cb -> batchers.forEach((m, b) -> cb.call(b.waiting(), m.name(), Long.toString(m.version()))))
        .register(metrics);
    GaugeWithCallback.builder().name("nv_inference_pending_request_count")
        .help("Instantaneous number of pending requests awaiting execution per-model")
        .labelNames("model", "version")
        .callback(cb -> batchers.forEach((m, b) -> cb.call(b.waiting(), m.name(), Long.toString(m.version()))))
        .register(metrics);
    // Beside the depth, so "how full" is one division (alert rules, autoscaling) for any config.
    GaugeWithCallback.builder().name("junction_queue_capacity")
        .help("Requests a model version's queue holds at most, over all priority levels")
        .labelNames("model", "version")
        .callback(cb -> batchers.forEach((m, b) -> cb.call(b.policy().queueCapacity(), m.name(),
            Long.toString(m.version()))))
        .register(metrics);
    CounterWithCallback.builder().name("junction_batch_buffers_allocated")
        .help("Direct buffers allocated for batch inputs merged from several requests and for outputs of 64 KiB and "
            + "more, which the backend writes in place; flat under steady load while the pool reuses them")
        .callback(cb -> cb.call(batchBuffers.allocations()))
        .register(metrics);
    GaugeWithCallback.builder().name("junction_batch_buffers_idle_bytes")
        .help("Bytes of batch buffers kept in the pool for reuse (at most " + (POOLED_BYTES >> 20) + " MiB): direct "
            + "memory held on purpose after a peak, not a leak")
        .callback(cb -> cb.call(batchBuffers.idleBytes()))
        .register(metrics);
    if (defaultMaxQueueSize < 1) {
      throw new IllegalArgumentException("defaultMaxQueueSize must be positive, got " + defaultMaxQueueSize);
    }
    this.defaultMaxQueueSize = defaultMaxQueueSize;
  }

  @Override
  public Ticket admit(ServedModel model) {
    if (closed.get()) {
      throw new ModelUnavailableException(model.label() + ": the server is shutting down");
    }
    return batcher(model).admit();
  }

  /** The batcher of a model version (created on first use). */
  public DynamicBatcher batcher(ServedModel model) {
    return batchers.computeIfAbsent(model, m -> {
      List<DynamicBatcher.Lane> lanes = new ArrayList<>();
      var rows = batchSize.labelValues(m.name(), Long.toString(m.version()));
      for (ModelInstances copy : m.instances()) {
        DeviceScheduler device = devices.scheduler(copy.device());
        lanes.add(new DynamicBatcher.Lane(device,
            new BatchExecution(m, copy.model(), runner, tracer, device.device(), rows), copy.count()));
      }
      DynamicBatcher b = new DynamicBatcher(m, BatchPolicy.from(m.config(), defaultMaxQueueSize), lanes,
          System::nanoTime, RUN_HERE_BELOW_NANOS);
      m.onClose(() -> {
        DynamicBatcher gone = batchers.remove(m);
        if (gone != null) {
          gone.close();
        }
      });
      return b;
    });
  }

  /** Requests waiting in a model version's queue now; 0 when it has no batcher yet. */
  public int waiting(ServedModel model) {
    DynamicBatcher b = batchers.get(model);
    return b == null ? 0 : b.waiting();
  }

  public DeviceRegistry devices() {
    return devices;
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    List<DynamicBatcher> all = new ArrayList<>(batchers.values());
    all.forEach(DynamicBatcher::close);
    for (DynamicBatcher b : all) {
      try {
        if (!b.awaitTermination(30, TimeUnit.SECONDS)) {
          log.warn("a batcher did not drain within 30 s");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    if (ownsDevices) {
      devices.close();
    }
  }
}
