package io.junction.server.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.compression.StandardCompressionOptions;
import io.netty.handler.codec.http.HttpContentCompressor;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;

/**
 * Puts gzip and deflate into a connection's pipeline once a request asks for them, as Triton's clients do when told to
 * compress: a request body with a {@code Content-Encoding} is inflated (chunk by chunk, so the aggregator after it caps
 * what it inflates to), and answers of {@value #COMPRESS_FROM_BYTES} bytes or more go compressed to a connection whose
 * first request sent {@code Accept-Encoding}.
 *
 * <p>Why on demand: Netty's two handlers cost every request of every connection 3–7 µs of the event loop even when
 * nothing is compressed (BENCHMARKS.md, "REST calls"), and most clients never compress. The compressor is added on a
 * connection's first request or not at all: added later, it would meet answers to requests it never saw.
 */
final class ContentCodings extends ChannelInboundHandlerAdapter {
  /** Smaller answers go as they are: gzip's header and checksum would make them no smaller. */
  static final int COMPRESS_FROM_BYTES = 1024;

  private boolean first = true;
  private boolean inflating;

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof HttpRequest request) {
      if (!inflating && request.headers().contains(HttpHeaderNames.CONTENT_ENCODING)) {
        inflating = true;
        ctx.pipeline().addAfter(ctx.name(), "inflate", new WholeBodyInflater());
        ctx.pipeline().addAfter("inflate", "inflate-failure", new InflateFailure());
      }
      if (first) {
        first = false;
        if (request.headers().contains(HttpHeaderNames.ACCEPT_ENCODING)) {
          ctx.pipeline().addAfter(ctx.name(), "compress", new HttpContentCompressor(COMPRESS_FROM_BYTES,
              StandardCompressionOptions.gzip(), StandardCompressionOptions.deflate()));
        }
      }
    }
    ctx.fireChannelRead(msg);
  }
}
