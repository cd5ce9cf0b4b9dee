package io.junction.server.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.compression.DecompressionException;
import io.netty.handler.codec.compression.JdkZlibDecoder;
import io.netty.handler.codec.compression.ZlibWrapper;
import io.netty.handler.codec.http.HttpContentDecompressor;
import io.netty.handler.codec.http.HttpHeaderValues;
import java.util.List;

/**
 * Netty's request body inflater, made to fail a body that is not one whole compressed stream: one that ends before
 * its stream does (a gzip body cut off before its checksum, a deflate body before its last block), or that goes on
 * after it. Netty's own decoder takes any number of gzip members and stops quietly wherever its input stops, so a
 * body cut short was answered as if it were the whole request, its checksum never checked, or as broken JSON with no
 * word of why. Those failures reach {@link InflateFailure} as the inflater's own do.
 *
 * <p>Only gzip and deflate are inflated; any other coding passes through untouched and is refused by the routes,
 * as the error they answer says.
 */
final class WholeBodyInflater extends HttpContentDecompressor {
  WholeBodyInflater() {
    super(false, 0);
  }

  @Override
  protected EmbeddedChannel newContentDecoder(String contentEncoding) {
    ZlibWrapper wrapper;
    if (HttpHeaderValues.GZIP.contentEqualsIgnoreCase(contentEncoding)
        || HttpHeaderValues.X_GZIP.contentEqualsIgnoreCase(contentEncoding)) {
      wrapper = ZlibWrapper.GZIP;
    } else if (HttpHeaderValues.DEFLATE.contentEqualsIgnoreCase(contentEncoding)
        || HttpHeaderValues.X_DEFLATE.contentEqualsIgnoreCase(contentEncoding)) {
      // What Netty does by default: 'deflate' is zlib by the RFC, but some clients send raw deflate.
      wrapper = ZlibWrapper.ZLIB_OR_NONE;
    } else {
      return null;
    }
    return EmbeddedChannel.builder()
        .channelId(ctx.channel().id())
        .hasDisconnect(ctx.channel().metadata().hasDisconnect())
        .config(ctx.channel().config())
        .handlers(new WholeStreamDecoder(wrapper, contentEncoding))
        .build();
  }

  /** Inflates one stream and fails if the body ends before that stream does or has bytes after it. */
  private static final class WholeStreamDecoder extends JdkZlibDecoder {
    private final String coding;
    /** Whether any of the body came: an empty body (a GET that names a coding) has no stream to cut short. */
    private boolean started;

    WholeStreamDecoder(ZlibWrapper wrapper, String coding) {
      // One stream per body: a decoder that took further gzip members could not tell a body cut short from one
      // that ended between members.
      super(wrapper, false, 0);
      this.coding = coding;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
      if (isClosed() && in.isReadable()) {
        int after = in.readableBytes();
        in.skipBytes(after);
        throw new DecompressionException("the body goes on for " + after + " bytes after the end of its " + coding
            + " stream (one " + coding + " stream a request)");
      }
      started |= in.isReadable();
      super.decode(ctx, in, out);
    }

    @Override
    protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
      super.decodeLast(ctx, in, out);
      if (started && !isClosed()) {
        throw new DecompressionException("the body ends before its " + coding + " stream does: it was cut short");
      }
    }
  }
}
