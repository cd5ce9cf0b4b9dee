package io.junction.server.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.compression.DecompressionException;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.ReferenceCountUtil;
import java.util.Map;

/**
 * Answers a request body that does not inflate as its {@code Content-Encoding} says with 400, then closes the
 * connection, whose further bytes can no longer be told apart. Without it the inflater's failure ended the connection
 * with no answer at all. Sits right after the inflater, on the event loop, so that nothing of the broken request
 * (the rest of its body, an aggregated remainder) reaches the handlers after it once it failed.
 */
final class InflateFailure extends ChannelInboundHandlerAdapter {
  private boolean failed;

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (failed) {
      ReferenceCountUtil.release(msg);
      return;
    }
    ctx.fireChannelRead(msg);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    Throwable root = cause instanceof DecompressionException || cause.getCause() == null ? cause : cause.getCause();
    if (!(root instanceof DecompressionException)) {
      ctx.fireExceptionCaught(cause);
      return;
    }
    if (!failed) {
      failed = true;
      HttpResponses.error(ctx, false, new HttpErrors.Failure(HttpResponseStatus.BAD_REQUEST, "the request body does "
          + "not inflate as its Content-Encoding says: " + HttpErrors.bounded(String.valueOf(root.getMessage()))), Map.of());
    }
  }
}
