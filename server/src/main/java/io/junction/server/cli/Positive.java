package io.junction.server.cli;

import java.time.Duration;

/** Checks of option values that name the option, where a config record's own check would name its field. */
final class Positive {
  private Positive() {}

  static Duration duration(String option, Duration value) {
    if (value.isZero()) {
      throw new IllegalArgumentException(option + " must be longer than 0");
    }
    return value;
  }

  static long number(String option, long value) {
    if (value < 1) {
      throw new IllegalArgumentException(option + " must be at least 1, got " + value);
    }
    return value;
  }
}
