package io.junction.server.config;

import java.time.Duration;
import java.util.Objects;

/**
 * The status page on the HTTP port ({@code GET /}) and its JSON ({@code GET /v2/status}).
 *
 * @param enabled false: neither is served
 * @param interval how often each model's traffic is sampled for the page's charts
 * @param points samples kept per model (the charts' width: 60 x 5 s = the last 5 minutes)
 */
public record StatusPageConfig(boolean enabled, Duration interval, int points) {
  public static final StatusPageConfig DEFAULTS = new StatusPageConfig(true, Duration.ofSeconds(5), 60);
  public static final StatusPageConfig OFF = new StatusPageConfig(false, Duration.ofSeconds(5), 60);

  public StatusPageConfig {
    Objects.requireNonNull(interval, "interval");
    if (interval.isNegative() || interval.isZero() || points < 1) {
      throw new IllegalArgumentException("the status page needs a positive interval and points");
    }
  }
}
