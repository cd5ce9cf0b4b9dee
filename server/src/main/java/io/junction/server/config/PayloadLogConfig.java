package io.junction.server.config;

import io.junction.server.payload.PayloadLogPolicy;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * Payload logging: on when at least one sink is set.
 *
 * @param dir gzip JSON-lines files here ({@code --payload-log-dir})
 * @param otlp OpenTelemetry log records through the server's SDK ({@code --payload-log-otlp})
 * @param cloudEvents CloudEvents over HTTP to this URL ({@code --payload-log-url})
 * @param policy what is logged, unless a model's config says otherwise
 * @param queueCapacity records waiting for the writer; more are dropped and counted
 * @param maxFileBytes JSON bytes per file before the next file starts
 * @param maxFileAge age of a file before the next starts
 * @param maxTotalBytes the directory's cap; the oldest files go first
 */
public record PayloadLogConfig(Optional<Path> dir, boolean otlp, Optional<URI> cloudEvents, PayloadLogPolicy policy,
    int queueCapacity, long maxFileBytes, Duration maxFileAge, long maxTotalBytes) {
  public static final PayloadLogConfig OFF = new PayloadLogConfig(Optional.empty(), false, Optional.empty(),
      PayloadLogPolicy.DEFAULTS, 10_000, 64L << 20, Duration.ofHours(1), 1L << 30);

  public PayloadLogConfig {
    Objects.requireNonNull(dir, "dir");
    Objects.requireNonNull(cloudEvents, "cloudEvents");
    Objects.requireNonNull(policy, "policy");
    if (queueCapacity < 1 || maxFileBytes < 1 || maxTotalBytes < 1 || maxFileAge.isNegative() || maxFileAge.isZero()) {
      throw new IllegalArgumentException("payload log queue, file size, file age and total size must be positive");
    }
  }

  public boolean enabled() {
    return dir.isPresent() || otlp || cloudEvents.isPresent();
  }

  public PayloadLogConfig withDir(Path d) {
    return new PayloadLogConfig(Optional.of(d), otlp, cloudEvents, policy, queueCapacity, maxFileBytes, maxFileAge, maxTotalBytes);
  }

  public PayloadLogConfig withOtlp(boolean on) {
    return new PayloadLogConfig(dir, on, cloudEvents, policy, queueCapacity, maxFileBytes, maxFileAge, maxTotalBytes);
  }

  public PayloadLogConfig withCloudEvents(URI url) {
    return new PayloadLogConfig(dir, otlp, Optional.of(url), policy, queueCapacity, maxFileBytes, maxFileAge, maxTotalBytes);
  }

  public PayloadLogConfig withPolicy(PayloadLogPolicy p) {
    return new PayloadLogConfig(dir, otlp, cloudEvents, p, queueCapacity, maxFileBytes, maxFileAge, maxTotalBytes);
  }

  public PayloadLogConfig withQueue(int capacity) {
    return new PayloadLogConfig(dir, otlp, cloudEvents, policy, capacity, maxFileBytes, maxFileAge, maxTotalBytes);
  }

  public PayloadLogConfig withFiles(long fileBytes, Duration fileAge, long totalBytes) {
    return new PayloadLogConfig(dir, otlp, cloudEvents, policy, queueCapacity, fileBytes, fileAge, totalBytes);
  }
}
