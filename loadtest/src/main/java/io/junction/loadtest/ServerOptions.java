package io.junction.loadtest;

import io.grpc.ManagedChannel;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyChannelBuilder;
import java.io.File;
import javax.net.ssl.SSLException;
import picocli.CommandLine;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The server a subcommand (check, profile) talks to, and how: plaintext, or TLS trusting a CA file. */
public final class ServerOptions {
  /** Answers may be large (a batch of images' scores); the server's own limit is what matters. */
  private static final int MAX_INBOUND_BYTES = 64 << 20;

  @Option(names = "--insecure", description = "Plaintext (the default unless --cacert is given).")
  boolean insecure;

  @Option(names = "--cacert", description = "PEM file of certificates to trust for TLS.")
  File cacert;

  @Option(names = "--target", description = "host:port (or give it last).")
  String target;

  @Parameters(arity = "0..1", paramLabel = "HOST:PORT")
  String positionalTarget;

  /** @throws CommandLine.ParameterException when neither --target nor a last argument names the server */
  public String target(CommandLine cli) {
    String server = target != null ? target : positionalTarget;
    if (server == null) {
      throw new CommandLine.ParameterException(cli, "give the server: --target HOST:PORT, or HOST:PORT last");
    }
    return server;
  }

  public ManagedChannel open(String server) throws SSLException {
    NettyChannelBuilder builder = NettyChannelBuilder.forTarget(server).maxInboundMessageSize(MAX_INBOUND_BYTES);
    return cacert == null ? builder.usePlaintext().build()
        : builder.sslContext(GrpcSslContexts.forClient().trustManager(cacert).build()).build();
  }
}
