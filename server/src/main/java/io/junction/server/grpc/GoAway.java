package io.junction.server.grpc;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import java.util.concurrent.TimeUnit;

/**
 * Ends a connection from a guard below grpc-java's HTTP/2 handler: a GOAWAY frame, then, reading nothing more, the
 * close a moment later. Closed at once, a connection whose client is still sending is reset, and the client's
 * kernel may drop the GOAWAY unread with it; the moment lets a client that reads learn why it was cut off.
 */
final class GoAway {
  private static final int TYPE = 0x7;
  /** The error code for a peer that behaves in a way that may generate excessive load. */
  static final int ENHANCE_YOUR_CALM = 0xb;
  private static final long CLOSE_AFTER_MILLIS = 1000;

  private GoAway() {}

  /** @param lastStream the last client stream the server may have acted on */
  static void sendAndClose(ChannelHandlerContext ctx, int lastStream, int errorCode) {
    // Nothing more is read: grpc-java's decoder, given nothing by the tripped guard, would ask for more each time.
    ctx.pipeline().addFirst(new ChannelOutboundHandlerAdapter() {
      @Override
      public void read(ChannelHandlerContext head) {
        // swallowed
      }
    });
    ctx.channel().config().setAutoRead(false);
    ByteBuf frame = ctx.alloc().buffer(17);
    frame.writeMedium(8).writeByte(TYPE).writeByte(0).writeInt(0); // header: length 8, stream 0
    frame.writeInt(lastStream).writeInt(errorCode);
    // Closed from the guard's place in the pipeline, below grpc-java's handler: closing the channel would go through
    // that handler, whose graceful close waits on the client, reading what it sends.
    ctx.writeAndFlush(frame).addListener(written -> ctx.executor().schedule(() -> ctx.close(), CLOSE_AFTER_MILLIS,
        TimeUnit.MILLISECONDS));
  }
}
