package io.junction.server.http;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Closes a connection in stages (RFC 9112 §9.6): the server stops writing, drops whatever the client still sends,
 * and closes once the client has, or after {@link #LINGER_MILLIS}. A socket closed with unread bytes in it sends a
 * reset, and a reset makes the client's kernel drop the answer it has not read yet: a client still sending a body
 * that was refused (413) would lose the refusal.
 *
 * <p>First in the pipeline, so it sees every close the handlers after it ask for, and the raw bytes before
 * anything decodes or inflates them. Closes while the endpoint stops are not staged.
 */
final class StagedClose extends ChannelDuplexHandler {
  static final long LINGER_MILLIS = 2_000;

  private final BooleanSupplier stopping;
  private boolean staged;

  StagedClose(BooleanSupplier stopping) {
    this.stopping = stopping;
  }

  @Override
  public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
    if (stopping.getAsBoolean() || !ctx.channel().isActive() || !(ctx.channel() instanceof SocketChannel socket)
        || socket.isInputShutdown()) {
      ctx.close(promise);
      return;
    }
    // done when the connection is, which the client may close first; a second request to close (an answer's
    // writer and the keep-alive handler both ask) waits for the same
    ctx.channel().closeFuture().addListener(f -> promise.trySuccess());
    if (staged) {
      return;
    }
    staged = true;
    socket.shutdownOutput().addListener(f -> {
      if (!f.isSuccess()) {
        ctx.close(promise);
      }
    });
    ScheduledFuture<?> linger = ctx.executor().schedule(() -> {
      ctx.close();
    }, LINGER_MILLIS, TimeUnit.MILLISECONDS);
    ctx.channel().closeFuture().addListener(f -> linger.cancel(false));
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (staged) {
      ReferenceCountUtil.release(msg); // the rest of a request already answered
      return;
    }
    ctx.fireChannelRead(msg);
  }
}
