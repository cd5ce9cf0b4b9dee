package io.junction.server.http;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;

/**
 * Answers a connection's pipelined requests in the order they came (RFC 9112 §9.3.2): a request goes on to be
 * answered only once the answer before it is written. Answers are made on other threads and an inference takes as
 * long as its model, so without this a metadata request sent after an inference would be answered first, and the
 * client would take each answer for the other's (the server codec's HEAD handling and the compressor pair answers
 * with requests by order too).
 *
 * <p>Requests read while one is being answered wait here, and reading from the socket pauses until none do: a
 * client that pipelines holds at most what the reads in progress brought. Sits after the aggregator, so a request
 * is one message, and before the request deadline, which then times each request from when it is let through.
 * Runs on the connection's event loop.
 */
final class InOrderAnswers extends ChannelDuplexHandler {
  private final ArrayDeque<FullHttpRequest> waiting = new ArrayDeque<>();
  private boolean answering;
  /** Lets the next request through; one per connection, not one per answer. */
  private ChannelFutureListener next;

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    next = written -> next(ctx);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof FullHttpRequest request)) {
      ctx.fireChannelRead(msg);
      return;
    }
    if (answering) {
      waiting.add(request);
      ctx.channel().config().setAutoRead(false);
      return;
    }
    answering = true;
    ctx.fireChannelRead(request);
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    boolean interim = msg instanceof HttpResponse r && r.status().codeClass() == HttpStatusClass.INFORMATIONAL;
    if (!(msg instanceof LastHttpContent) || interim) {
      ctx.write(msg, promise);
      return;
    }
    // The next request goes on once this answer is out, so that what times a request starts after this one's end.
    ctx.write(msg, promise.unvoid()).addListener(next);
  }

  private void next(ChannelHandlerContext ctx) {
    answering = false;
    if (!ctx.channel().isActive()) {
      return; // the waiting requests are released as the connection goes
    }
    FullHttpRequest request = waiting.poll();
    if (request != null) {
      answering = true;
      ctx.fireChannelRead(request);
    }
    if (waiting.isEmpty()) {
      ctx.channel().config().setAutoRead(true);
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    releaseWaiting();
    ctx.fireChannelInactive();
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    releaseWaiting();
  }

  private void releaseWaiting() {
    for (FullHttpRequest request; (request = waiting.poll()) != null; ) {
      ReferenceCountUtil.release(request);
    }
  }
}
