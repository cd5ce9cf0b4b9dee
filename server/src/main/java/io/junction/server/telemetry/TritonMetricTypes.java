package io.junction.server.telemetry;

import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/**
 * Types Triton's {@code nv_inference_*} and {@code nv_cache_*} counters as counters in the Prometheus text format (0.0.4), as
 * Triton itself does, keeping their names. The client library collects them untyped: it would add
 * {@code _total} to a counter's name, and Triton's dashboards query the names without it. OpenMetrics
 * requires {@code _total} on counters, so there they stay {@code unknown}, with the same names.
 */
final class TritonMetricTypes {
  private static final Pattern UNTYPED_COUNTER = Pattern.compile(
      "^# TYPE (nv_inference_(?:request_success|request_failure|count|exec_count|request_duration_us|queue_duration_us"
          + "|compute_input_duration_us|compute_infer_duration_us|compute_output_duration_us)"
          + "|nv_cache_(?:num_hits|num_misses|hit_duration|miss_duration)_per_model) untyped$",
      Pattern.MULTILINE);

  private TritonMetricTypes() {}

  static byte[] typed(byte[] text) {
    String s = new String(text, StandardCharsets.UTF_8);
    return UNTYPED_COUNTER.matcher(s).replaceAll("# TYPE $1 counter").getBytes(StandardCharsets.UTF_8);
  }
}
