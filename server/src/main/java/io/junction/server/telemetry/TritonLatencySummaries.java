package io.junction.server.telemetry;

import io.junction.server.inference.InferenceListener;
import io.junction.server.inference.InferenceOutcome;
import io.junction.server.model.ServedModel;
import io.junction.server.scheduling.InferenceResult;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Summary;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Triton's optional latency summaries ({@code --metrics-config summary_latencies=true} there,
 * {@code --metrics-latency-summaries} here): per model version, p50/p90/p95/p99 over the last minute of
 * successful requests' total, queue and compute times, in microseconds, under Triton's names.
 */
public final class TritonLatencySummaries implements InferenceListener {
  private static final String[] NAMES = {"nv_inference_request_summary_us", "nv_inference_queue_summary_us",
      "nv_inference_compute_input_summary_us", "nv_inference_compute_infer_summary_us",
      "nv_inference_compute_output_summary_us"};
  private static final String[] HELP = {"Summary of inference request duration in microseconds",
      "Summary of inference queuing duration in microseconds",
      "Summary of compute input duration in microseconds", "Summary of compute inference duration in microseconds",
      "Summary of compute output duration in microseconds"};

  private final Summary[] summaries = new Summary[NAMES.length];
  /** The data points of each model version, looked up once; dropped when the version closes. */
  private final Map<ServedModel, DistributionDataPoint[]> byModel = new ConcurrentHashMap<>();

  public TritonLatencySummaries(PrometheusRegistry metrics) {
    for (int i = 0; i < NAMES.length; i++) {
      summaries[i] = Summary.builder().name(NAMES[i]).help(HELP[i]).labelNames("model", "version")
          .quantile(0.5, 0.05).quantile(0.9, 0.01).quantile(0.95, 0.005).quantile(0.99, 0.001)
          .maxAgeSeconds(60).numberOfAgeBuckets(5).register(metrics);
    }
  }

  @Override
  public void completed(InferenceOutcome outcome) {
    InferenceResult result = outcome.result();
    ServedModel model = outcome.model();
    if (!outcome.succeeded() || result == null || model == null) {
      return;
    }
    DistributionDataPoint[] points = byModel.computeIfAbsent(model, this::points);
    points[0].observe(outcome.latencyNanos() / 1000.0);
    points[1].observe(result.queueNanos() / 1000.0);
    points[2].observe(result.computeInputNanos() / 1000.0);
    points[3].observe(result.computeInferNanos() / 1000.0);
    points[4].observe(result.computeOutputNanos() / 1000.0);
  }

  private DistributionDataPoint[] points(ServedModel model) {
    model.onClose(() -> byModel.remove(model));
    String version = Long.toString(model.version());
    DistributionDataPoint[] points = new DistributionDataPoint[summaries.length];
    for (int i = 0; i < summaries.length; i++) {
      points[i] = summaries[i].labelValues(model.name(), version);
    }
    return points;
  }
}
