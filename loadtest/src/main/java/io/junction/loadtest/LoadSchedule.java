package io.junction.loadtest;

/**
 * ghz's load schedules: the request rate at each moment of a run.
 * <ul>
 *   <li>{@code const}: {@code start} requests per second throughout;
 *   <li>{@code step}: {@code start}, raised by {@code step} every {@code stepSeconds}, up to {@code end};
 *   <li>{@code line}: {@code start}, raised by {@code step} per second, linearly, up to {@code end}.
 * </ul>
 * A {@code step} below 0 lowers the rate the same way (down to {@code end}). With {@code maxRampSeconds}
 * (ghz's {@code --load-max-duration} / {@code --concurrency-max-duration}) the rate changes only that long
 * and then holds where it got to for the rest of the run.
 */
record LoadSchedule(String kind, double start, double end, double step, double stepSeconds, double maxRampSeconds) {
  LoadSchedule(String kind, double start, double end, double step, double stepSeconds) {
    this(kind, start, end, step, stepSeconds, 0);
  }

  LoadSchedule withMaxRamp(double seconds) {
    return new LoadSchedule(kind, start, end, step, stepSeconds, seconds);
  }

  LoadSchedule {
    if (!kind.equals("const") && !kind.equals("step") && !kind.equals("line") && !kind.equals("spike")) {
      throw new IllegalArgumentException("--load-schedule must be const, step or line, got '" + kind + "'");
    }
    if (!(start > 0)) {
      throw new IllegalArgumentException("the starting rate must be positive, got " + start);
    }
    if (kind.equals("step") && !(stepSeconds > 0)) {
      throw new IllegalArgumentException("--load-step-duration must be positive for a step schedule");
    }
  }

  /**
   * The spike scenario: {@code base} rps for {@code phaseSeconds}, {@code peak} for {@code phaseSeconds},
   * then {@code base} again for twice as long, so recovery can be watched.
   */
  static LoadSchedule spike(double base, double peak, double phaseSeconds) {
    return new LoadSchedule("spike", base, peak, 0, phaseSeconds);
  }

  /** When the spike starts and ends, in seconds of the run (spike schedules only). */
  double spikeStart() {
    return stepSeconds;
  }

  double spikeEnd() {
    return 2 * stepSeconds;
  }

  double totalSeconds() {
    return 4 * stepSeconds;
  }

  /** Requests per second {@code seconds} into the run. */
  double rateAt(double seconds) {
    if (kind.equals("spike")) {
      return seconds >= spikeStart() && seconds < spikeEnd() ? end : start;
    }
    if (maxRampSeconds > 0) {
      seconds = Math.min(seconds, maxRampSeconds);
    }
    double rate = switch (kind) {
      case "const" -> start;
      case "step" -> start + step * Math.floor(seconds / stepSeconds);
      default -> start + step * seconds;
    };
    if (end > 0) {
      rate = step >= 0 ? Math.min(rate, end) : Math.max(rate, end);
    }
    return Math.max(rate, 0.001);
  }
}
