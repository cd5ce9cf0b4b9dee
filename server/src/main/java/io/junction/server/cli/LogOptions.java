package io.junction.server.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import io.junction.server.logging.StandardOutput;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Option;

/** How the server logs: {@code --log-format}, {@code --log-verbose}. */
public final class LogOptions {
  /** The forms of a log line. */
  public enum Format { TEXT, JSON }

  @Option(names = "--log-format", defaultValue = "text", paramLabel = "text|json",
      description = "Log lines as text, or as JSON objects (logback's JSON encoder: time, level, thread, logger, "
          + "message, and trace_id/span_id of the call being served) for log pipelines (default: ${DEFAULT-VALUE}).")
  Format format;

  @Option(names = "--log-verbose", defaultValue = "0", paramLabel = "LEVEL",
      description = "0: info (default), 1 or more: debug.")
  int verbose;

  /** Sets the root logger's level and, for JSON, the encoder of Junction's standard-output appender. */
  public void apply() {
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    if (verbose > 0) {
      root.setLevel(Level.DEBUG);
    }
    if (format == Format.JSON) {
      jsonLines(root);
    }
  }

  /** Standard output's appender with logback's JSON encoder: one JSON object per event, MDC included. */
  private static void jsonLines(Logger root) {
    OutputStreamAppender<ILoggingEvent> appender = StandardOutput.appender(root).orElse(null);
    if (appender == null) {
      LoggerFactory.getLogger(LogOptions.class).warn("--log-format json applies to Junction's logback.xml; the "
          + "logging configuration in use has no TRACE_CONTEXT appender holding STDOUT, so it is left as it is");
      return;
    }
    JsonEncoder json = new JsonEncoder();
    json.setContext(root.getLoggerContext());
    json.setWithFormattedMessage(true);
    json.setWithMessage(false);
    json.setWithArguments(false);
    json.setWithContext(false);
    json.setWithSequenceNumber(false);
    json.setWithNanoseconds(false);
    json.start();
    appender.stop();
    appender.setEncoder(json);
    appender.start();
  }
}
