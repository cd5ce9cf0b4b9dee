package io.junction.server.http;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Closes a connection that does not deliver a whole request within the timeout of opening or of its
 * previous answer, or does not take an answer within the timeout of its writing: a client sending a byte now and
 * then (slowloris), reading one now and then (slow read), or idling, holds a connection only that long. Sits after
 * the aggregator, so a whole request is one message; runs on the connection's event loop.
 *
 * <p>The clock is restarted twice a request, so it is kept as a deadline that one pending check at a time reads,
 * rescheduling itself while the deadline has moved on: scheduling and cancelling a timer each time cost a REST call
 * several microseconds of the event loop (BENCHMARKS.md, "REST calls").
 */
final class RequestDeadline extends ChannelDuplexHandler {
  private final long timeoutNanos;
  /** Whether the clock runs: not while a request is being answered. */
  private boolean armed;
  private long deadlineNanos;
  /** The one pending check of the deadline; null when none is scheduled. */
  private ScheduledFuture<?> check;
  /** Restarts the clock once an answer is out; one per connection, not one per answer. */
  private ChannelFutureListener answerOut;

  RequestDeadline(long timeoutNanos) {
    this.timeoutNanos = timeoutNanos;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    answerOut = written -> arm(ctx);
    arm(ctx); // the channel is already active when its pipeline is built
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    if (msg instanceof FullHttpRequest) {
      armed = false; // answering takes the time it takes; the clock restarts with the answer
    }
    super.channelRead(ctx, msg);
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
    if (msg instanceof LastHttpContent) {
      // The answer has the timeout to go out: a client that stops reading would otherwise hold the connection and
      // the unsent answer for as long as it liked (a slow read). Once out, the next request has its own time.
      arm(ctx);
      promise = promise.unvoid().addListener(answerOut);
    }
    super.write(ctx, msg, promise);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    armed = false;
    if (check != null) {
      check.cancel(false);
      check = null;
    }
    super.channelInactive(ctx);
  }

  private void arm(ChannelHandlerContext ctx) {
    if (!ctx.channel().isOpen()) {
      return;
    }
    armed = true;
    deadlineNanos = System.nanoTime() + timeoutNanos;
    if (check == null) {
      schedule(ctx, timeoutNanos);
    }
  }

  private void schedule(ChannelHandlerContext ctx, long delayNanos) {
    check = ctx.executor().schedule(() -> expire(ctx), delayNanos, TimeUnit.NANOSECONDS);
  }

  private void expire(ChannelHandlerContext ctx) {
    check = null;
    if (!armed) {
      return; // a request is being answered; the answer's write arms the clock again
    }
    long left = deadlineNanos - System.nanoTime();
    if (left > 0) {
      schedule(ctx, left);
    } else {
      ctx.close();
    }
  }
}
