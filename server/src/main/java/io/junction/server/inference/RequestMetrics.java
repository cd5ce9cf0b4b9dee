package io.junction.server.inference;

import io.junction.server.model.ServedModel;
import io.junction.server.routing.RouteDecision;
import io.junction.server.telemetry.Buckets;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Latency histograms of answered calls, by model version and by route variant, with the outcome as a
 * label. Data points are looked up once per model version and variant and kept, so recording a call
 * is one observation, not a label lookup.
 */
public final class RequestMetrics implements InferenceListener {
  private record VariantKey(String route, String variant) {}

  private final Histogram requestDuration;
  private final Histogram routeDuration;
  /** [success, failure] per served model version; dropped when the version closes. */
  private final Map<ServedModel, DistributionDataPoint[]> byModel = new ConcurrentHashMap<>();
  private final Map<VariantKey, DistributionDataPoint[]> byVariant = new ConcurrentHashMap<>();

  public RequestMetrics(PrometheusRegistry metrics) {
    this.requestDuration = Histogram.builder()
        .name("junction_request_duration_seconds")
        .help("Time from arrival to answer of inference requests, by outcome")
        .labelNames("model", "version", "outcome")
        .classicUpperBounds(Buckets.LATENCY_SECONDS)
        .classicOnly()
        .register(metrics);
    this.routeDuration = Histogram.builder()
        .name("junction_route_request_duration_seconds")
        .help("Latency of requests to a route, by the variant that served them and outcome")
        .labelNames("route", "variant", "outcome")
        .classicUpperBounds(Buckets.LATENCY_SECONDS)
        .classicOnly()
        .register(metrics);
  }

  @Override
  public void completed(InferenceOutcome outcome) {
    int index = outcome.succeeded() ? 0 : 1;
    double seconds = outcome.latencyNanos() / 1e9;
    ServedModel model = outcome.model();
    if (model != null) {
      byModel.computeIfAbsent(model, this::modelPoints)[index].observe(seconds);
    }
    RouteDecision route = outcome.route();
    if (route != null) {
      VariantKey key = new VariantKey(route.route().name(), route.variant().name());
      byVariant.computeIfAbsent(key, k -> new DistributionDataPoint[] {
          routeDuration.labelValues(k.route(), k.variant(), "success"),
          routeDuration.labelValues(k.route(), k.variant(), "failure")})[index].observe(seconds);
    }
  }

  private DistributionDataPoint[] modelPoints(ServedModel model) {
    model.onClose(() -> byModel.remove(model));
    String version = Long.toString(model.version());
    return new DistributionDataPoint[] {
        requestDuration.labelValues(model.name(), version, "success"),
        requestDuration.labelValues(model.name(), version, "failure")};
  }
}
