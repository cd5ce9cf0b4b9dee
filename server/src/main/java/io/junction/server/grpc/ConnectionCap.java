package io.junction.server.grpc;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Caps a gRPC port's open connections: one past the cap is closed as it is accepted, before any TLS or HTTP/2 work.
 * grpc-java takes every connection offered, so a flood of them (each idle one lives until its keepalive or idle
 * timeout) would otherwise run the process out of file descriptors and memory, and the port out of service for
 * every client. One instance per port, shared by its connections; it leaves a connection's pipeline once counted.
 */
@ChannelHandler.Sharable
final class ConnectionCap extends ChannelInboundHandlerAdapter {
  private final int max;
  private final Runnable onRefused;
  private final AtomicInteger open = new AtomicInteger();

  /** @param onRefused told of each connection closed for the cap (a metric) */
  ConnectionCap(int max, Runnable onRefused) {
    this.max = max;
    this.onRefused = onRefused;
  }

  int max() {
    return max;
  }

  /** Connections open now. */
  int open() {
    return open.get();
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    if (open.incrementAndGet() > max) {
      open.decrementAndGet();
      onRefused.run();
      ctx.close(); // from here, below grpc-java's handler, whose graceful close would wait on the client
    } else {
      ctx.channel().closeFuture().addListener(closed -> open.decrementAndGet());
    }
    ctx.pipeline().remove(this);
  }
}
