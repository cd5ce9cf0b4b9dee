package io.junction.server.http;

import io.netty.channel.ChannelDuplexHandler;
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
 */
final class RequestDeadline extends ChannelDuplexHandler {
  private final long timeoutNanos;
  private ScheduledFuture<?> deadline;

  RequestDeadline(long timeoutNanos) {
    this.timeoutNanos = timeoutNanos;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    arm(ctx); // the channel is already active when its pipeline is built
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    if (msg instanceof FullHttpRequest) {
      disarm(); // answering takes the time it takes; the clock restarts with the answer
    }
    super.channelRead(ctx, msg);
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
    if (msg instanceof LastHttpContent) {
      // The answer has the timeout to go out: a client that stops reading would otherwise hold the connection and
      // the unsent answer for as long as it liked (a slow read). Once out, the next request has its own time.
      arm(ctx);
      promise = promise.unvoid();
      promise.addListener(f -> arm(ctx));
    }
    super.write(ctx, msg, promise);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    disarm();
    super.channelInactive(ctx);
  }

  private void arm(ChannelHandlerContext ctx) {
    disarm();
    if (ctx.channel().isOpen()) {
      deadline = ctx.executor().schedule(() -> {
        ctx.close();
      }, timeoutNanos, TimeUnit.NANOSECONDS);
    }
  }

  private void disarm() {
    if (deadline != null) {
      deadline.cancel(false);
      deadline = null;
    }
  }
}
