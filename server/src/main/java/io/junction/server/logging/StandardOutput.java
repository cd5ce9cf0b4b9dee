package io.junction.server.logging;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.spi.AppenderAttachable;
import java.util.Optional;

/** Where Junction's logback.xml writes the log: root → TRACE_CONTEXT (adds the current span's ids) → STDOUT. */
public final class StandardOutput {
  private StandardOutput() {}

  /** The STDOUT appender under the root's TRACE_CONTEXT; empty under a logging configuration of the user's own. */
  @SuppressWarnings("unchecked")
  public static Optional<OutputStreamAppender<ILoggingEvent>> appender(Logger root) {
    if (root.getAppender("TRACE_CONTEXT") instanceof AppenderAttachable<?> traced
        && traced.getAppender("STDOUT") instanceof OutputStreamAppender<?> stdout) {
      return Optional.of((OutputStreamAppender<ILoggingEvent>) stdout);
    }
    return Optional.empty();
  }
}
