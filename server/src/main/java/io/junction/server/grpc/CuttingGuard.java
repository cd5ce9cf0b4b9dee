package io.junction.server.grpc;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.util.ReferenceCountUtil;

/**
 * A guard that reads the client's frame headers and, once what it counts trips it, passes nothing more of the
 * connection on and ends it with GOAWAY (ENHANCE_YOUR_CALM). Sits between TLS and grpc-java's HTTP/2 handler, on
 * the connection's event loop: one instance per connection.
 */
abstract class CuttingGuard extends ChannelDuplexHandler {
  private final Http2FrameScanner inbound = new Http2FrameScanner(true);
  private int lastClientStream;
  private boolean tripped;
  private long windowStart = System.nanoTime();
  // made once: a lambda per read would be garbage on the event loop
  private final Http2FrameScanner.Listener onClientFrame = (type, flags, stream, length) -> {
    if (tripped) {
      return; // the rest of the buffer is dropped: the server takes none of it
    }
    clientFrame(type, flags, stream, length);
    if (type == Http2FrameScanner.HEADERS && stream > lastClientStream) {
      lastClientStream = stream;
    }
  };

  /**
   * Told of each frame the client sends, in order; {@link #lastClientStream()} is still the stream opened before
   * this frame.
   */
  abstract void clientFrame(int type, int flags, int stream, int length);

  /** Starts a new tumbling window when the current one is over; whether it did, so the counts start again. */
  final boolean windowRolled(long windowNanos) {
    long now = System.nanoTime();
    if (now - windowStart <= windowNanos) {
      return false;
    }
    windowStart = now;
    return true;
  }

  /** Told once, as the connection is cut off: for the log and the metric. */
  abstract void cutOff(ChannelHandlerContext ctx);

  /** What was counted calls for the connection's end; it comes once the frame being read or written is through. */
  final void trip() {
    tripped = true;
  }

  final boolean tripped() {
    return tripped;
  }

  /** The last stream the client opened: the GOAWAY's last stream. */
  final int lastClientStream() {
    return lastClientStream;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    if (tripped) {
      ReferenceCountUtil.release(msg); // the connection is going: no more work for it
      return;
    }
    if (msg instanceof ByteBuf buf) {
      inbound.scan(buf, onClientFrame);
      if (tripped) {
        ReferenceCountUtil.release(msg);
        end(ctx);
        return;
      }
    }
    super.channelRead(ctx, msg);
  }

  /** Ends the connection once tripped by what the server wrote (frames the client provoked). */
  final void end(ChannelHandlerContext ctx) {
    cutOff(ctx);
    GoAway.sendAndClose(ctx, lastClientStream, GoAway.ENHANCE_YOUR_CALM);
  }
}
