package io.junction.server.status;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.DataPointSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.UnknownSnapshot;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * One scrape of the server's own metrics, reduced to what the status page charts, per model (all its
 * versions together) and per route: the metrics are the one source of these figures, so the page and
 * Prometheus never disagree.
 */
record MetricReadings(long epochMillis, Map<String, ModelCounters> models, Map<String, double[]> shadowAgreement) {
  /** Cumulative counters of one model; {@code latencyBuckets} maps upper bound (s) to its count. */
  record ModelCounters(double success, double failure, double inferences, double executions,
      TreeMap<Double, Long> latencyBuckets) {}

  static MetricReadings scrape(PrometheusRegistry registry, long epochMillis) {
    Map<String, double[]> counters = new HashMap<>(); // model -> success, failure, inferences, executions
    Map<String, TreeMap<Double, Long>> buckets = new HashMap<>();
    Map<String, double[]> shadow = new TreeMap<>(); // route/model -> agree, disagree
    for (MetricSnapshot m : registry.scrape()) {
      String name = m.getMetadata().getPrometheusName();
      int index = switch (name) {
        case "nv_inference_request_success" -> 0;
        case "nv_inference_request_failure" -> 1;
        case "nv_inference_count" -> 2;
        case "nv_inference_exec_count" -> 3;
        default -> -1;
      };
      if (index >= 0 && m instanceof UnknownSnapshot u) {
        for (UnknownSnapshot.UnknownDataPointSnapshot p : u.getDataPoints()) {
          counters.computeIfAbsent(model(p), k -> new double[4])[index] += p.getValue();
        }
      } else if (name.equals("junction_request_duration_seconds") && m instanceof HistogramSnapshot h) {
        for (HistogramSnapshot.HistogramDataPointSnapshot p : h.getDataPoints()) {
          if (!"success".equals(p.getLabels().get("outcome"))) {
            continue;
          }
          ClassicHistogramBuckets b = p.getClassicBuckets();
          TreeMap<Double, Long> sum = buckets.computeIfAbsent(model(p), k -> new TreeMap<>());
          for (int i = 0; i < b.size(); i++) {
            sum.merge(b.getUpperBound(i), b.getCount(i), Long::sum);
          }
        }
      } else if (name.equals("junction_shadow_argmax_rows") && m instanceof CounterSnapshot c) {
        for (CounterSnapshot.CounterDataPointSnapshot p : c.getDataPoints()) {
          double[] agree = shadow.computeIfAbsent(p.getLabels().get("route") + "/" + p.getLabels().get("model"),
              k -> new double[2]);
          agree["true".equals(p.getLabels().get("agree")) ? 0 : 1] += p.getValue();
        }
      }
    }
    Map<String, ModelCounters> models = new TreeMap<>();
    counters.forEach((model, v) -> models.put(model, new ModelCounters(v[0], v[1], v[2], v[3],
        buckets.getOrDefault(model, new TreeMap<>()))));
    return new MetricReadings(epochMillis, models, shadow);
  }

  private static String model(DataPointSnapshot p) {
    return String.valueOf(p.getLabels().get("model"));
  }
}
