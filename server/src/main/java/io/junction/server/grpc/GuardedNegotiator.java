package io.junction.server.grpc;

import io.grpc.netty.GrpcHttp2ConnectionHandler;
import io.grpc.netty.InternalProtocolNegotiator;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerAdapter;
import io.netty.channel.ChannelHandlerContext;
import io.netty.util.AsciiString;
import java.util.List;
import java.util.function.Function;

/**
 * grpc-java's server negotiation (plaintext or TLS), with guards ({@link ConnectionCap}, {@link IdleFrameGuard},
 * {@link PrematureResetGuard}, {@link IncompleteMessageGuard}) put between TLS and the HTTP/2 handler of every
 * connection, where they see the plaintext frames. Uses grpc-java's
 * {@code Internal*} negotiator API, the only way into the server's pipeline; the version is pinned and
 * the rapid-reset tests fail if the hook stops working.
 */
final class GuardedNegotiator implements InternalProtocolNegotiator.ProtocolNegotiator {
  private final InternalProtocolNegotiator.ProtocolNegotiator delegate;
  private final Function<GrpcHttp2ConnectionHandler, List<ChannelHandler>> guards;

  /** @param guards a connection's guards, made for it from its HTTP/2 handler */
  GuardedNegotiator(InternalProtocolNegotiator.ProtocolNegotiator delegate,
      Function<GrpcHttp2ConnectionHandler, List<ChannelHandler>> guards) {
    this.delegate = delegate;
    this.guards = guards;
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
        // The TLS negotiation puts its SslHandler just before itself when added; the guards go after it, in order.
        ctx.pipeline().addAfter(ctx.name(), name, negotiation);
        for (ChannelHandler guard : guards.apply(grpcHandler)) {
          ctx.pipeline().addBefore(name, null, guard);
        }
        ctx.pipeline().remove(this);
      }
    };
  }

  @Override
  public void close() {
    delegate.close();
  }
}
