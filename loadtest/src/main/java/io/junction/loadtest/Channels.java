package io.junction.loadtest;

import io.grpc.ManagedChannel;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyChannelBuilder;
import java.io.File;
import javax.net.ssl.SSLException;

/** The channel of the subcommands (check, profile): plaintext, or TLS trusting a CA file. */
public final class Channels {
  /** Answers may be large (a batch of images' scores); the server's own limit is what matters. */
  private static final int MAX_INBOUND_BYTES = 64 << 20;

  private Channels() {}

  /** @param cacert PEM certificates to trust for TLS; null for plaintext */
  public static ManagedChannel open(String target, File cacert) throws SSLException {
    NettyChannelBuilder builder = NettyChannelBuilder.forTarget(target).maxInboundMessageSize(MAX_INBOUND_BYTES);
    return cacert == null ? builder.usePlaintext().build()
        : builder.sslContext(GrpcSslContexts.forClient().trustManager(cacert).build()).build();
  }
}
