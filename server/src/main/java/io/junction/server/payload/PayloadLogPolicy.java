package io.junction.server.payload;

import io.junction.proto.inference.ModelConfig;
import io.junction.proto.inference.ModelParameter;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What is logged of a model's calls. The server's flags give the defaults; a model's {@code config.pbtxt}
 * may override each with a {@code parameters} entry of the same name:
 * {@code payload_log_sample_rate}, {@code payload_log_what}, {@code payload_log_max_bytes},
 * {@code payload_log_summary_only}, {@code payload_log_exclude}.
 *
 * @param sampleRate the fraction of calls logged, 0 (none) to 1 (all)
 * @param inputs log the inputs
 * @param outputs log the outputs of successful calls
 * @param errors log failed calls (with their inputs when {@code inputs})
 * @param maxTensorBytes a tensor larger than this is logged as a summary (shape, datatype, min, max,
 *     mean, SHA-256) instead of its values
 * @param summaryOnly never log values, only summaries (privacy)
 * @param excluded tensor names never logged, not even summarised
 */
public record PayloadLogPolicy(double sampleRate, boolean inputs, boolean outputs, boolean errors,
    int maxTensorBytes, boolean summaryOnly, Set<String> excluded) {
  private static final String SAMPLE_RATE = "payload_log_sample_rate";
  private static final String WHAT = "payload_log_what";
  private static final String MAX_BYTES = "payload_log_max_bytes";
  private static final String SUMMARY_ONLY = "payload_log_summary_only";
  private static final String EXCLUDE = "payload_log_exclude";
  /** The config.pbtxt parameters a model overrides the server's policy with. */
  public static final Set<String> PARAMETERS = Set.of(SAMPLE_RATE, WHAT, MAX_BYTES, SUMMARY_ONLY, EXCLUDE);

  public static final PayloadLogPolicy DEFAULTS = new PayloadLogPolicy(1.0, true, true, true, 4096, false, Set.of());

  public PayloadLogPolicy {
    if (!(sampleRate >= 0 && sampleRate <= 1)) {
      throw new IllegalArgumentException("payload_log_sample_rate must be within [0, 1], got " + sampleRate);
    }
    if (maxTensorBytes < 0) {
      throw new IllegalArgumentException("payload_log_max_bytes must be non-negative, got " + maxTensorBytes);
    }
    excluded = Set.copyOf(excluded);
  }

  /** Parses {@code inputs,outputs,errors} (any of them). */
  public PayloadLogPolicy withWhat(String what) {
    Set<String> parts = Arrays.stream(what.toLowerCase(Locale.ROOT).split(",")).map(String::trim)
        .filter(p -> !p.isEmpty()).collect(Collectors.toSet());
    for (String p : parts) {
      if (!Set.of("inputs", "outputs", "errors").contains(p)) {
        throw new IllegalArgumentException("payload_log_what takes inputs, outputs and errors, got '" + p + "'");
      }
    }
    return new PayloadLogPolicy(sampleRate, parts.contains("inputs"), parts.contains("outputs"), parts.contains("errors"),
        maxTensorBytes, summaryOnly, excluded);
  }

  /** Parses a comma-separated list of tensor names never logged (blanks around and between names ignored). */
  public PayloadLogPolicy withExcluded(String names) {
    return new PayloadLogPolicy(sampleRate, inputs, outputs, errors, maxTensorBytes, summaryOnly,
        Arrays.stream(names.split(",")).map(String::trim).filter(s -> !s.isEmpty()).collect(Collectors.toSet()));
  }

  /**
   * This policy with a model's overrides.
   *
   * @throws IllegalArgumentException naming the parameter whose value is wrong
   */
  public PayloadLogPolicy forModel(ModelConfig config) {
    PayloadLogPolicy p = this;
    var params = config.getParametersMap();
    String rate = text(params, SAMPLE_RATE);
    if (rate != null) {
      p = new PayloadLogPolicy(number(rate, SAMPLE_RATE), p.inputs, p.outputs, p.errors, p.maxTensorBytes,
          p.summaryOnly, p.excluded);
    }
    String what = text(params, WHAT);
    if (what != null) {
      p = p.withWhat(what);
    }
    String max = text(params, MAX_BYTES);
    if (max != null) {
      p = new PayloadLogPolicy(p.sampleRate, p.inputs, p.outputs, p.errors, (int) number(max, MAX_BYTES),
          p.summaryOnly, p.excluded);
    }
    String summary = text(params, SUMMARY_ONLY);
    if (summary != null) {
      p = new PayloadLogPolicy(p.sampleRate, p.inputs, p.outputs, p.errors, p.maxTensorBytes,
          Boolean.parseBoolean(summary.trim()), p.excluded);
    }
    String exclude = text(params, EXCLUDE);
    if (exclude != null) {
      p = p.withExcluded(exclude);
    }
    return p;
  }

  private static String text(Map<String, ModelParameter> params, String key) {
    var v = params.get(key);
    return v == null ? null : v.getStringValue();
  }

  private static double number(String text, String key) {
    try {
      return Double.parseDouble(text.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(key + " must be a number, got '" + text + "'");
    }
  }
}
