package io.junction.server.grpc;

import io.grpc.netty.GrpcHttp2ConnectionHandler;
import io.grpc.netty.InternalProtocolNegotiator;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerAdapter;
import io.netty.channel.ChannelHandlerContext;
import io.netty.util.AsciiString;
import java.util.function.Supplier;

/**
 * grpc-java's server negotiation (plaintext or TLS), with a {@link PrematureResetGuard} put between
 * TLS and the HTTP/2 handler of every connection, where it sees the plaintext frames. Uses grpc-java's
 * {@code Internal*} negotiator API, the only way into the server's pipeline; the version is pinned and
 * the rapid-reset tests fail if the hook stops working.
 */
final class GuardedNegotiator implements InternalProtocolNegotiator.ProtocolNegotiator {
  private final InternalProtocolNegotiator.ProtocolNegotiator delegate;
  private final Supplier<ChannelHandler> guard;

  GuardedNegotiator(InternalProtocolNegotiator.ProtocolNegotiator delegate, Supplier<ChannelHandler> guard) {
    this.delegate = delegate;
    this.guard = guard;
  }

  @Override
  public AsciiString scheme() {
    return delegate.scheme();
  }

  @Override
  public ChannelHandler newHandler(GrpcHttp2ConnectionHandler grpcHandler) {
    ChannelHandler negotiation = delegate.newHandler(grpcHandler);
    return new ChannelHandlerAdapter() {
      @Override
      public void handlerAdded(ChannelHandlerContext ctx) {
        String name = ctx.name() + "#negotiation";
        // The TLS negotiation puts its SslHandler just before itself when added; the guard goes after it.
        ctx.pipeline().addAfter(ctx.name(), name, negotiation);
        ctx.pipeline().addBefore(name, null, guard.get());
        ctx.pipeline().remove(this);
      }
    };
  }

  @Override
  public void close() {
    delegate.close();
  }
}
