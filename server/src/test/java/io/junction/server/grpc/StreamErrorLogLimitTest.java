package io.junction.server.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.spi.FilterReply;
import org.junit.jupiter.api.Test;

class StreamErrorLogLimitTest {
  private final LoggerContext context = new LoggerContext();

  @Test
  void oneStreamErrorWarningGetsThroughAMinuteAndNothingElseIsTouched() {
    StreamErrorLogLimit limit = new StreamErrorLogLimit();
    assertThat(limit.decide(event(StreamErrorLogLimit.LOGGER, StreamErrorLogLimit.MESSAGE)))
        .as("the first").isEqualTo(FilterReply.NEUTRAL);
    for (int i = 0; i < 100; i++) {
      assertThat(limit.decide(event(StreamErrorLogLimit.LOGGER, StreamErrorLogLimit.MESSAGE)))
          .as("the rest of the minute").isEqualTo(FilterReply.DENY);
    }
    assertThat(limit.decide(event(StreamErrorLogLimit.LOGGER, "Exception in onHeadersRead()")))
        .as("grpc-java's other warnings").isEqualTo(FilterReply.NEUTRAL);
    assertThat(limit.decide(event("io.junction.server.JunctionServer", StreamErrorLogLimit.MESSAGE)))
        .as("another logger's").isEqualTo(FilterReply.NEUTRAL);
  }

  private LoggingEvent event(String logger, String message) {
    return new LoggingEvent(getClass().getName(), context.getLogger(logger), Level.WARN, message, null, null);
  }
}
