package io.junction.server.telemetry;

import io.junction.server.http.HttpEndpoint;
import io.junction.server.model.ModelIndexEntry;
import io.junction.server.model.ModelManager;
import io.junction.server.model.ModelState;
import io.junction.server.model.ModelStats;
import io.junction.server.model.ServedModel;
import io.junction.server.scheduling.BatchingScheduler;
import io.junction.server.model.ModelPager;
import io.junction.server.routing.CanaryController;
import io.junction.server.routing.RouteObserver;
import io.junction.server.routing.ShadowComparison;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.UnknownSnapshot;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToLongFunction;

/**
 * Prometheus metrics for {@code /metrics}, with the Prometheus Java client: it writes the text format
 * Prometheus scrapes, names metrics exactly as we choose (Triton's names, which existing dashboards
 * query), and brings JVM and process metrics. The per-model counters are read from each model's
 * {@link ModelStats} at scrape time, so the hot path records them once, for ModelStatistics and
 * Prometheus alike; only the histograms are recorded per request.
 *
 * <p>Triton's counters keep their exact names ({@code nv_inference_request_success}, not
 * {@code ..._total}) and are therefore exposed untyped; durations are cumulative microseconds, as in
 * Triton. Owns its registry; no global state.
 */
public final class ServerMetrics implements ModelStats.Observer, RouteObserver, HttpEndpoint.Metrics {
  private static final double[] LATENCY_BUCKETS = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
      0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  private static final double[] BATCH_BUCKETS = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};

  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();
  private final Histogram requestDuration = Histogram.builder()
      .name("junction_request_duration_seconds")
      .help("Time from arrival to answer of inference requests, by outcome")
      .labelNames("model", "version", "outcome")
      .classicUpperBounds(LATENCY_BUCKETS)
      .classicOnly()
      .register(registry);
  private final Histogram batchSize = Histogram.builder()
      .name("junction_batch_size")
      .help("Rows per model execution")
      .labelNames("model", "version")
      .classicUpperBounds(BATCH_BUCKETS)
      .classicOnly()
      .register(registry);

  private final Histogram routeDuration = Histogram.builder()
      .name("junction_route_request_duration_seconds")
      .help("Latency of requests to a route, by the variant that served them and outcome")
      .labelNames("route", "variant", "outcome")
      .classicUpperBounds(LATENCY_BUCKETS)
      .classicOnly()
      .register(registry);

  private final Histogram shadowLatency = Histogram.builder()
      .name("junction_shadow_duration_seconds")
      .help("Latency of shadow requests, by route, shadow model and outcome (dropped ones count as failures)")
      .labelNames("route", "model", "outcome")
      .classicUpperBounds(LATENCY_BUCKETS)
      .classicOnly()
      .register(registry);
  private final Histogram shadowDiff = Histogram.builder()
      .name("junction_shadow_max_abs_diff")
      .help("Largest absolute difference between the shadow's and the primary's FP32 outputs, per request")
      .labelNames("route", "model")
      .classicUpperBounds(1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1, 10)
      .classicOnly()
      .register(registry);
  private final io.prometheus.metrics.core.metrics.Counter shadowArgmax =
      io.prometheus.metrics.core.metrics.Counter.builder()
          .name("junction_shadow_argmax_rows")
          .help("Rows compared between shadow and primary, by whether their argmax agreed")
          .labelNames("route", "model", "agree")
          .register(registry);

  public ServerMetrics() {
    JvmMetrics.builder().register(registry);
  }

  /** Adds the per-model metrics, read from the models and their queues at each scrape. */
  public void watch(ModelManager models, BatchingScheduler scheduler) {
    registry.register(new ModelCollector(models, scheduler));
  }

  /** Adds the memory budget's metrics: bytes loaded, the budget, evictions. */
  public void watch(ModelPager pager) {
    GaugeWithCallback.builder().name("junction_model_memory_bytes")
        .help("Bytes of models loaded (file sizes of loaded versions)").labelNames("device")
        .callback(cb -> cb.call(pager.residentBytes(), "cpu")).register(registry);
    GaugeWithCallback.builder().name("junction_model_memory_budget_bytes")
        .help("The memory budget for models").labelNames("device")
        .callback(cb -> cb.call(pager.budgetBytes(), "cpu")).register(registry);
    CounterWithCallback.builder().name("junction_model_evictions")
        .help("Models unloaded to stay within the memory budget").labelNames("device")
        .callback(cb -> cb.call(pager.evictions(), "cpu")).register(registry);
  }

  /** Adds the canaries' metrics: weight and step per route, rollbacks. */
  public void watch(CanaryController canaries) {
    GaugeWithCallback.builder().name("junction_canary_weight")
        .help("Percent of its route's two variants' traffic the canary gets now").labelNames("route", "canary")
        .callback(cb -> canaries.statuses().forEach((route, s) -> cb.call(s.canaryWeight(), route, s.canary())))
        .register(registry);
    GaugeWithCallback.builder().name("junction_canary_step")
        .help("1-based step of the canary; with junction_canary_state it tells where the rollout stands")
        .labelNames("route", "canary", "state")
        .callback(cb -> canaries.statuses().forEach((route, s) -> cb.call(s.step(), route, s.canary(), s.state().name())))
        .register(registry);
    CounterWithCallback.builder().name("junction_canary_rollbacks")
        .help("Canaries rolled back to 0 % after an SLO breach")
        .callback(cb -> cb.call(canaries.rollbacks())).register(registry);
  }

  @Override
  public void requestDone(String model, long version, boolean success, long nanos) {
    requestDuration.labelValues(model, Long.toString(version), success ? "success" : "failure").observe(nanos / 1e9);
  }

  @Override
  public void routed(String route, String variant, boolean success, long nanos) {
    routeDuration.labelValues(route, variant, success ? "success" : "failure").observe(nanos / 1e9);
  }

  @Override
  public void shadowed(String route, String model, boolean success, long nanos, ShadowComparison comparison) {
    shadowLatency.labelValues(route, model, success ? "success" : "failure").observe(nanos / 1e9);
    if (comparison != null) {
      if (!Double.isNaN(comparison.maxAbsDiff())) {
        shadowDiff.labelValues(route, model).observe(comparison.maxAbsDiff());
      }
      shadowArgmax.labelValues(route, model, "true").inc(comparison.argmaxAgreements());
      shadowArgmax.labelValues(route, model, "false").inc(comparison.rows() - comparison.argmaxAgreements());
    }
  }

  @Override
  public void executed(String model, long version, long rows) {
    batchSize.labelValues(model, Long.toString(version)).observe(rows);
  }

  @Override
  public String contentType() {
    return writer.getContentType();
  }

  /** The text exposition of every metric now. */
  @Override
  public byte[] scrape() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream(16 * 1024);
    writer.write(out, registry.scrape(), io.prometheus.metrics.config.EscapingScheme.ALLOW_UTF8);
    return out.toByteArray();
  }

  /** Triton's per-model counters, queue depth, requests in flight and load state. */
  private static final class ModelCollector implements MultiCollector {
    private final ModelManager models;
    private final BatchingScheduler scheduler;

    ModelCollector(ModelManager models, BatchingScheduler scheduler) {
      this.models = models;
      this.scheduler = scheduler;
    }

    @Override
    public MetricSnapshots collect() {
      List<ServedModel> ready = new ArrayList<>();
      for (String name : models.modelNames()) {
        ready.addAll(models.readyVersions(name));
      }
      Map<String, ToLongFunction<ModelStats.Snapshot>> counters = new LinkedHashMap<>();
      counters.put("nv_inference_request_success", s -> s.success().count());
      counters.put("nv_inference_request_failure", s -> s.fail().count());
      counters.put("nv_inference_count", ModelStats.Snapshot::inferenceCount);
      counters.put("nv_inference_exec_count", ModelStats.Snapshot::executionCount);
      counters.put("nv_inference_request_duration_us", s -> (s.success().nanos() + s.fail().nanos()) / 1000);
      counters.put("nv_inference_queue_duration_us", s -> s.queue().nanos() / 1000);
      counters.put("nv_inference_compute_input_duration_us", s -> s.computeInput().nanos() / 1000);
      counters.put("nv_inference_compute_infer_duration_us", s -> s.computeInfer().nanos() / 1000);
      counters.put("nv_inference_compute_output_duration_us", s -> s.computeOutput().nanos() / 1000);
      Map<ServedModel, ModelStats.Snapshot> snapshots = new LinkedHashMap<>();
      ready.forEach(m -> snapshots.put(m, m.stats().snapshot()));

      MetricSnapshots.Builder out = MetricSnapshots.builder();
      counters.forEach((name, value) -> {
        UnknownSnapshot.Builder b = UnknownSnapshot.builder().name(name).help(help(name));
        snapshots.forEach((m, s) -> b.dataPoint(UnknownSnapshot.UnknownDataPointSnapshot.builder()
            .labels(labels(m)).value(value.applyAsLong(s)).build()));
        out.metricSnapshot(b.build());
      });
      GaugeSnapshot.Builder queue = GaugeSnapshot.builder().name("junction_queue_size")
          .help("Requests waiting in a model version's queue");
      GaugeSnapshot.Builder inFlight = GaugeSnapshot.builder().name("junction_inflight_requests")
          .help("Requests of a model version queued or running");
      for (ServedModel m : ready) {
        queue.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().labels(labels(m))
            .value(scheduler.waiting(m)).build());
        inFlight.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().labels(labels(m)).value(m.inFlight()).build());
      }
      GaugeSnapshot.Builder size = GaugeSnapshot.builder().name("junction_model_size_bytes")
          .help("Estimated memory of a loaded model version (its file sizes)");
      GaugeSnapshot.Builder loadTime = GaugeSnapshot.builder().name("junction_model_load_seconds")
          .help("How long loading a model version took");
      for (ServedModel m : ready) {
        size.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().labels(labels(m)).value(m.footprintBytes()).build());
        loadTime.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().labels(labels(m))
            .value(m.loadMillis() / 1000.0).build());
      }
      out.metricSnapshot(queue.build()).metricSnapshot(inFlight.build()).metricSnapshot(size.build())
          .metricSnapshot(loadTime.build());
      GaugeSnapshot.Builder state = GaugeSnapshot.builder().name("junction_model_state")
          .help("1 for the state each model version is in (UNAVAILABLE, LOADING, READY, UNLOADING)");
      for (ModelIndexEntry e : models.index()) {
        for (ModelState st : ModelState.values()) {
          state.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder()
              .labels(Labels.of("model", e.name(), "version", e.version(), "state", st.name()))
              .value(e.state() == st ? 1 : 0).build());
        }
      }
      return out.metricSnapshot(state.build()).build();
    }

    private static Labels labels(ServedModel m) {
      return Labels.of("model", m.name(), "version", Long.toString(m.version()));
    }

    private static String help(String name) {
      return switch (name) {
        case "nv_inference_request_success" -> "Number of successful inference requests, all batch sizes";
        case "nv_inference_request_failure" -> "Number of failed inference requests, all batch sizes";
        case "nv_inference_count" -> "Number of inferences performed (rows; a request of batch 8 counts 8)";
        case "nv_inference_exec_count" -> "Number of model executions performed (batches)";
        case "nv_inference_request_duration_us" -> "Cumulative inference request duration in microseconds";
        case "nv_inference_queue_duration_us" -> "Cumulative inference queuing duration in microseconds";
        case "nv_inference_compute_input_duration_us" -> "Cumulative compute input duration in microseconds";
        case "nv_inference_compute_infer_duration_us" -> "Cumulative compute inference duration in microseconds";
        default -> "Cumulative inference compute output duration in microseconds";
      };
    }
  }
}
