package io.junction.server.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import org.slf4j.Marker;

/**
 * Drops the events of the levels switched off, before an event is made, wherever it is logged: Triton's
 * {@code log_info}, {@code log_warning} and {@code log_error} are switches, not a threshold (warnings can be off
 * while errors and information are on), which a logger's level cannot say.
 */
final class LevelSwitch extends TurboFilter {
  volatile boolean info = true;
  volatile boolean warning = true;
  volatile boolean error = true;

  void set(boolean info, boolean warning, boolean error) {
    this.info = info;
    this.warning = warning;
    this.error = error;
  }

  boolean dropsSome() {
    return !(info && warning && error);
  }

  @Override
  public FilterReply decide(Marker marker, Logger logger, Level level, String format, Object[] params, Throwable t) {
    if (level == null) {
      return FilterReply.NEUTRAL;
    }
    boolean off = switch (level.toInt()) {
      case Level.INFO_INT -> !info;
      case Level.WARN_INT -> !warning;
      case Level.ERROR_INT -> !error;
      default -> false;
    };
    return off ? FilterReply.DENY : FilterReply.NEUTRAL;
  }
}
