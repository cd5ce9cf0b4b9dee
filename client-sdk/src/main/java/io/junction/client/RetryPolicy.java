package io.junction.client;

import io.grpc.Status;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * gRPC's retry policy for the inference service's calls (the service config's {@code retryPolicy}):
 * up to {@code maxAttempts} in all, with exponential backoff between them, for the given status codes.
 */
public record RetryPolicy(int maxAttempts, Duration initialBackoff, Duration maxBackoff, double backoffMultiplier,
    Set<Status.Code> retryableCodes) {
  public RetryPolicy {
    if (maxAttempts < 2 || maxAttempts > 5) {
      throw new IllegalArgumentException("maxAttempts must be 2 to 5 (gRPC caps it at 5), got " + maxAttempts);
    }
    if (initialBackoff.isNegative() || initialBackoff.isZero() || maxBackoff.compareTo(initialBackoff) < 0) {
      throw new IllegalArgumentException("backoffs must be positive and maxBackoff at least initialBackoff");
    }
    if (!(backoffMultiplier > 0)) {
      throw new IllegalArgumentException("backoffMultiplier must be positive, got " + backoffMultiplier);
    }
    if (retryableCodes.isEmpty() || retryableCodes.contains(Status.Code.OK)) {
      throw new IllegalArgumentException("retryableCodes must name failures, got " + retryableCodes);
    }
    retryableCodes = Set.copyOf(retryableCodes);
  }

  /**
   * Three attempts, 100 ms then 200 ms apart (up to 1 s), on UNAVAILABLE: what a rolling update or a
   * replica going away looks like to a client. Requests a server refused (RESOURCE_EXHAUSTED) are not retried.
   */
  public static RetryPolicy onUnavailable() {
    return new RetryPolicy(3, Duration.ofMillis(100), Duration.ofSeconds(1), 2, Set.of(Status.Code.UNAVAILABLE));
  }

  /** The service config, as gRPC's channel builder takes it (JSON numbers as doubles). */
  Map<String, ?> serviceConfig() {
    Map<String, Object> retry = Map.of(
        "maxAttempts", (double) maxAttempts,
        "initialBackoff", seconds(initialBackoff),
        "maxBackoff", seconds(maxBackoff),
        "backoffMultiplier", backoffMultiplier,
        "retryableStatusCodes", retryableCodes.stream().map(Enum::name).sorted().toList());
    return Map.of("methodConfig", List.of(Map.of(
        "name", List.of(Map.of("service", "inference.GRPCInferenceService")),
        "retryPolicy", retry)));
  }

  private static String seconds(Duration d) {
    return d.toNanos() / 1e9 + "s";
  }
}
