package io.junction.server.config;

import java.time.Duration;
import java.util.Objects;

/**
 * How long feedback (business outcomes) can be joined to the route variant that answered a request.
 *
 * @param ledgerSize routed requests remembered (about 120 bytes each); at R calls a second, feedback that
 *     comes D seconds after its request is joined while {@code R x D < ledgerSize}
 * @param ttl how long after its answer a request's feedback still counts
 */
public record FeedbackConfig(int ledgerSize, Duration ttl) {
  public static final FeedbackConfig DEFAULTS = new FeedbackConfig(500_000, Duration.ofHours(1));

  public FeedbackConfig {
    Objects.requireNonNull(ttl, "ttl");
    if (ledgerSize < 1 || ttl.isNegative() || ttl.isZero()) {
      throw new IllegalArgumentException("feedback ledger size and ttl must be positive, got " + ledgerSize + ", " + ttl);
    }
  }
}
