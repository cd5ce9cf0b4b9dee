package io.junction.server.grpc;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;

/** Ends a connection from a guard below grpc-java's HTTP/2 handler: a GOAWAY frame, then the close. */
final class GoAway {
  private static final int TYPE = 0x7;
  /** The error code for a peer that behaves in a way that may generate excessive load. */
  static final int ENHANCE_YOUR_CALM = 0xb;

  private GoAway() {}

  /** @param lastStream the last client stream the server may have acted on */
  static void sendAndClose(ChannelHandlerContext ctx, int lastStream, int errorCode) {
    ByteBuf frame = ctx.alloc().buffer(17);
    frame.writeMedium(8).writeByte(TYPE).writeByte(0).writeInt(0); // header: length 8, stream 0
    frame.writeInt(lastStream).writeInt(errorCode);
    ctx.writeAndFlush(frame).addListener(ChannelFutureListener.CLOSE);
  }
}
