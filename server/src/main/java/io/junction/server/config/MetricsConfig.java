package io.junction.server.config;

/**
 * Optional metrics.
 *
 * @param latencySummaries export Triton's latency summaries ({@code nv_inference_*_summary_us}); off by
 *     default, as in Triton: quantiles cost each call a few summary updates
 */
public record MetricsConfig(boolean latencySummaries) {
  public static final MetricsConfig DEFAULTS = new MetricsConfig(false);
}
