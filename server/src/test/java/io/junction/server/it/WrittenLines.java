package io.junction.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import ch.qos.logback.core.spi.AppenderAttachable;
import java.util.List;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.LoggerFactory;

/**
 * The log events of each test, read where logback.xml's TRACE_CONTEXT appender hands them to standard output: what
 * is written, after every filter and level, with the MDC the trace context adds. Register with
 * {@code @RegisterExtension}.
 */
final class WrittenLines implements BeforeEachCallback, AfterEachCallback {
  private final ListAppender<ILoggingEvent> written = new ListAppender<>();
  private AppenderAttachable<ILoggingEvent> traceContext;

  @Override
  @SuppressWarnings("unchecked")
  public void beforeEach(ExtensionContext context) {
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    traceContext = (AppenderAttachable<ILoggingEvent>) root.getAppender("TRACE_CONTEXT");
    assertThat(traceContext).as("logback.xml routes the root logger through TRACE_CONTEXT").isNotNull();
    written.list.clear();
    written.start();
    traceContext.addAppender(written);
  }

  @Override
  public void afterEach(ExtensionContext context) {
    traceContext.detachAppender(written);
  }

  List<ILoggingEvent> events() {
    return List.copyOf(written.list);
  }

  List<String> messages() {
    return events().stream().map(ILoggingEvent::getFormattedMessage).toList();
  }

  /** The first event whose message contains {@code text}. */
  ILoggingEvent first(String text) {
    return events().stream().filter(e -> e.getFormattedMessage().contains(text)).findFirst()
        .orElseThrow(() -> new AssertionError("no line containing \"" + text + "\" among " + written.list.size()));
  }
}
