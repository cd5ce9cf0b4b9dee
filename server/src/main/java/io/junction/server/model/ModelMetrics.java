package io.junction.server.model;

import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.UnknownSnapshot;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToLongFunction;

/**
 * The models' own metrics, read from each version's {@link ModelStats} at scrape time, so the hot
 * path records them once for ModelStatistics and Prometheus alike: Triton's per-model counters,
 * requests in flight, size, load time and state.
 *
 * <p>Triton's counters keep their exact names ({@code nv_inference_request_success}, not
 * {@code ..._total}), so they are collected untyped (the client library would add {@code _total} to a
 * counter); the Prometheus text format types them {@code counter}, as Triton does
 * ({@link io.junction.server.telemetry.TritonMetricTypes}). Durations are cumulative microseconds, as in
 * Triton.
 */
final class ModelMetrics implements MultiCollector {
  private final ModelManager models;

  ModelMetrics(ModelManager models) {
    this.models = models;
  }

  @Override
  public MetricSnapshots collect() {
    List<ServedModel> ready = new ArrayList<>();
    for (String name : models.modelNames()) {
      ready.addAll(models.readyVersions(name));
    }
    Map<String, ToLongFunction<ModelStats.Snapshot>> counters = new LinkedHashMap<>();
    counters.put("nv_inference_request_success", s -> s.success().count());
    counters.put("nv_inference_count", ModelStats.Snapshot::inferenceCount);
    counters.put("nv_inference_exec_count", ModelStats.Snapshot::executionCount);
    counters.put("nv_inference_request_duration_us", s -> (s.success().nanos() + s.fail().nanos()) / 1000);
    counters.put("nv_inference_queue_duration_us", s -> s.queue().nanos() / 1000);
    counters.put("nv_inference_compute_input_duration_us", s -> s.computeInput().nanos() / 1000);
    counters.put("nv_inference_compute_infer_duration_us", s -> s.computeInfer().nanos() / 1000);
    counters.put("nv_inference_compute_output_duration_us", s -> s.computeOutput().nanos() / 1000);
    // Triton reports its cache counters for the models that enable the cache only.
    Map<String, ToLongFunction<ModelStats.Snapshot>> cacheCounters = new LinkedHashMap<>();
    cacheCounters.put("nv_cache_num_hits_per_model", s -> s.cacheHit().count());
    cacheCounters.put("nv_cache_num_misses_per_model", s -> s.cacheMiss().count());
    cacheCounters.put("nv_cache_hit_duration_per_model", s -> s.cacheHit().nanos() / 1000);
    cacheCounters.put("nv_cache_miss_duration_per_model", s -> s.cacheMiss().nanos() / 1000);
    Map<ServedModel, ModelStats.Snapshot> snapshots = new LinkedHashMap<>();
    ready.forEach(m -> snapshots.put(m, m.stats().snapshot()));
    Map<ServedModel, ModelStats.Snapshot> cached = new LinkedHashMap<>(snapshots);
    cached.keySet().removeIf(m -> !m.enablesResponseCache());

    MetricSnapshots.Builder out = MetricSnapshots.builder();
    counters.forEach((name, value) -> {
      out.metricSnapshot(counter(name, value, snapshots));
      if (name.equals("nv_inference_request_success")) {
        // Right after success, as in Triton: failures by reason (REJECTED, CANCELED, BACKEND, OTHER).
        UnknownSnapshot.Builder failures = UnknownSnapshot.builder().name("nv_inference_request_failure")
            .help(help("nv_inference_request_failure"));
        snapshots.forEach((m, s) -> s.failures().forEach((reason, n) -> failures.dataPoint(
            UnknownSnapshot.UnknownDataPointSnapshot.builder().labels(labels(m).add("reason", reason.name()))
                .value(n).build())));
        out.metricSnapshot(failures.build());
      }
    });
    cacheCounters.forEach((name, value) -> out.metricSnapshot(counter(name, value, cached)));
    GaugeSnapshot.Builder inFlight = GaugeSnapshot.builder().name("junction_inflight_requests")
        .help("Requests of a model version queued or running");
    GaugeSnapshot.Builder size = GaugeSnapshot.builder().name("junction_model_size_bytes")
        .help("Memory of a loaded model version as the memory budget counts it: the larger of its file sizes and "
            + "the measured growth of resident memory while it loaded");
    GaugeSnapshot.Builder footprint = GaugeSnapshot.builder().name("junction_model_footprint_bytes")
        .help("What a loaded model version holds, by measure: files (their sizes) or resident (growth of the "
            + "process's resident memory while it loaded and warmed up; 0 when not measurable)");
    GaugeSnapshot.Builder loadTime = GaugeSnapshot.builder().name("junction_model_load_seconds")
        .help("How long loading a model version took");
    for (ServedModel m : ready) {
      inFlight.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().labels(labels(m)).value(m.inFlight()).build());
      size.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().labels(labels(m)).value(m.footprintBytes()).build());
      footprint.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().labels(labels(m).add("measure", "files"))
          .value(m.footprint().fileBytes()).build());
      footprint.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().labels(labels(m).add("measure", "resident"))
          .value(m.footprint().measuredBytes()).build());
      loadTime.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().labels(labels(m))
          .value(m.loadMillis() / 1000.0).build());
    }
    out.metricSnapshot(inFlight.build()).metricSnapshot(size.build()).metricSnapshot(footprint.build())
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
    CounterSnapshot.Builder reloadFailures = CounterSnapshot.builder().name("junction_model_reload_failures")
        .help("Reloads that failed and left the versions that were serving in place");
    models.reloadFailures().forEach((name, n) -> reloadFailures.dataPoint(
        CounterSnapshot.CounterDataPointSnapshot.builder().labels(Labels.of("model", name)).value(n).build()));
    return out.metricSnapshot(state.build()).metricSnapshot(reloadFailures.build()).build();
  }

  private static Labels labels(ServedModel m) {
    return Labels.of("model", m.name(), "version", Long.toString(m.version()));
  }

  /** One of Triton's counters, a point per model version. */
  private static UnknownSnapshot counter(String name, ToLongFunction<ModelStats.Snapshot> value,
      Map<ServedModel, ModelStats.Snapshot> snapshots) {
    UnknownSnapshot.Builder b = UnknownSnapshot.builder().name(name).help(help(name));
    snapshots.forEach((m, s) -> b.dataPoint(UnknownSnapshot.UnknownDataPointSnapshot.builder()
        .labels(labels(m)).value(value.applyAsLong(s)).build()));
    return b.build();
  }

  private static String help(String name) {
    return switch (name) {
      case "nv_inference_request_success" -> "Number of successful inference requests, all batch sizes";
      case "nv_inference_request_failure" -> "Number of failed inference requests, all batch sizes, by reason";
      case "nv_inference_count" -> "Number of inferences performed (rows; a request of batch 8 counts 8)";
      case "nv_inference_exec_count" -> "Number of model executions performed (batches)";
      case "nv_inference_request_duration_us" -> "Cumulative inference request duration in microseconds";
      case "nv_inference_queue_duration_us" -> "Cumulative inference queuing duration in microseconds";
      case "nv_inference_compute_input_duration_us" -> "Cumulative compute input duration in microseconds";
      case "nv_inference_compute_infer_duration_us" -> "Cumulative compute inference duration in microseconds";
      case "nv_inference_compute_output_duration_us" -> "Cumulative inference compute output duration in microseconds";
      case "nv_cache_num_hits_per_model" -> "Number of response cache hits per model";
      case "nv_cache_num_misses_per_model" -> "Number of response cache misses per model";
      case "nv_cache_hit_duration_per_model" -> "Cumulative time requests spend retrieving a cached response per "
          + "model on cache hits (microseconds)";
      case "nv_cache_miss_duration_per_model" -> "Cumulative time requests spend looking up and inserting responses "
          + "into the cache on a cache miss (microseconds)";
      default -> throw new IllegalArgumentException("no help for " + name);
    };
  }
}
