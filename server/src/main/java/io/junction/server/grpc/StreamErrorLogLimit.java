package io.junction.server.grpc;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.filter.Filter;
import ch.qos.logback.core.spi.FilterReply;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Lets through one of grpc-java's "Stream Error" warnings a minute and drops the rest. Each is a stream error a
 * client provoked (a malformed frame: a zero window update, data on a closed stream), which grpc-java logs at WARN
 * with a stack trace of some thirty lines: a client could write megabytes of log a second with small frames. The
 * first of each minute still shows what clients are doing; the rapid-reset guard cuts off a connection that keeps
 * at it. Attached to Junction's appender in logback.xml.
 */
public final class StreamErrorLogLimit extends Filter<ILoggingEvent> {
  static final String LOGGER = "io.grpc.netty.NettyServerHandler";
  static final String MESSAGE = "Stream Error";
  private static final long INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);

  /** When the next one may pass: the time of the last one that did, plus the interval. */
  private final AtomicLong next = new AtomicLong(System.nanoTime());

  @Override
  public FilterReply decide(ILoggingEvent event) {
    if (!MESSAGE.equals(event.getMessage()) || !LOGGER.equals(event.getLoggerName())) {
      return FilterReply.NEUTRAL;
    }
    long now = System.nanoTime();
    long allowed = next.get();
    return now - allowed >= 0 && next.compareAndSet(allowed, now + INTERVAL_NANOS) ? FilterReply.NEUTRAL
        : FilterReply.DENY;
  }
}
