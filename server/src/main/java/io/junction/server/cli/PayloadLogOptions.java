package io.junction.server.cli;

import io.junction.server.config.PayloadLogConfig;
import io.junction.server.payload.PayloadLogPolicy;
import java.net.URI;
import java.nio.file.Path;
import java.util.Set;
import picocli.CommandLine.Option;

/** Where inference payloads are logged, and what of them; models may override the policy in config.pbtxt. */
public final class PayloadLogOptions {
  @Option(names = "--payload-log-dir", paramLabel = "DIR",
      description = "Log inference payloads as gzip-compressed JSON lines in DIR (rotated, size-capped).")
  Path dir;

  @Option(names = "--payload-log-otlp", defaultValue = "false", arity = "0..1", fallbackValue = "true",
      paramLabel = "BOOL",
      description = "Log inference payloads as OpenTelemetry log records (exported with OTEL_LOGS_EXPORTER=otlp).")
  boolean otlp;

  @Option(names = "--payload-log-url", paramLabel = "URL",
      description = "Send inference payloads as CloudEvents over HTTP to URL (KServe's payload logger format).")
  URI url;

  @Option(names = "--payload-log-sample-rate", defaultValue = "1.0", paramLabel = "R",
      description = "Fraction of calls logged, 0 to 1 (default: ${DEFAULT-VALUE}); per model: payload_log_sample_rate.")
  double sampleRate;

  @Option(names = "--payload-log-what", defaultValue = "inputs,outputs,errors", paramLabel = "LIST",
      description = "What is logged (default: ${DEFAULT-VALUE}); per model: payload_log_what.")
  String what;

  @Option(names = "--payload-log-max-bytes", defaultValue = "4096", paramLabel = "BYTES",
      description = "Larger tensors are logged as a summary: shape, datatype, min, max, mean, SHA-256 "
          + "(default: ${DEFAULT-VALUE}); per model: payload_log_max_bytes.")
  int maxBytes;

  @Option(names = "--payload-log-summary-only", defaultValue = "false", arity = "0..1", fallbackValue = "true",
      paramLabel = "BOOL", description = "Never log tensor values, only summaries; per model: payload_log_summary_only.")
  boolean summaryOnly;

  @Option(names = "--payload-log-exclude", paramLabel = "NAMES",
      description = "Comma-separated tensor names never logged; per model: payload_log_exclude.")
  String exclude;

  /** The sinks and the server-wide policy; off unless a sink is named. */
  public PayloadLogConfig config() {
    if (!(sampleRate >= 0 && sampleRate <= 1)) {
      throw new IllegalArgumentException("--payload-log-sample-rate must be within [0, 1], got " + sampleRate);
    }
    if (maxBytes < 0) {
      throw new IllegalArgumentException("--payload-log-max-bytes must be at least 0, got " + maxBytes);
    }
    PayloadLogPolicy policy = new PayloadLogPolicy(sampleRate, true, true, true, maxBytes, summaryOnly, Set.of());
    if (exclude != null) {
      policy = policy.withExcluded(exclude);
    }
    try {
      policy = policy.withWhat(what);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--payload-log-what takes inputs, outputs and errors, got '" + what + "'");
    }
    PayloadLogConfig config = PayloadLogConfig.OFF.withPolicy(policy).withOtlp(otlp);
    if (dir != null) {
      config = config.withDir(dir);
    }
    return url == null ? config : config.withCloudEvents(url);
  }
}
