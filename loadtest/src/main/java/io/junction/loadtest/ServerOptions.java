package io.junction.loadtest;

import io.grpc.ManagedChannel;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.io.File;
import javax.net.ssl.SSLException;
import picocli.CommandLine;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * The server the load generator and its subcommands (check, profile) talk to, and how, with ghz's options:
 * the target (or given last), {@code --insecure} for plaintext, otherwise TLS with the system's trust or
 * {@code --cacert}, a client certificate for mTLS, {@code --cname}/{@code --authority}, {@code --skipTLS}.
 */
public final class ServerOptions {
  /** Answers may be large (a batch of images' scores); the server's own limit is what matters. */
  private static final int MAX_INBOUND_BYTES = 256 << 20;

  @Option(names = "--target", description = "host:port (or give it last, as ghz does).")
  String target;

  @Parameters(arity = "0..1", paramLabel = "HOST:PORT", description = "The server, as in ghz.")
  String positionalTarget;

  @Option(names = "--insecure", description = "Plaintext (no TLS); without it calls use TLS, as ghz's do.")
  boolean insecure;

  @Option(names = "--cert", paramLabel = "FILE", description = "Client certificate (PEM) to present (mTLS), with --key.")
  File cert;

  @Option(names = "--key", paramLabel = "FILE", description = "The client certificate's private key (PKCS#8 PEM).")
  File key;

  @Option(names = "--cname", paramLabel = "NAME", description = "The server name to verify the server's certificate against.")
  String cname;

  @Option(names = "--skipTLS", description = "TLS without verifying the server's certificate (tests only).")
  boolean skipTls;

  @Option(names = "--authority", paramLabel = "VALUE", description = "The :authority the calls carry.")
  String authority;

  @Option(names = "--cacert", description = "PEM file of certificates to trust for TLS.")
  File cacert;

  /** @throws CommandLine.ParameterException when neither --target nor a last argument names the server */
  public String target(CommandLine cli) {
    String server = target != null ? target : positionalTarget;
    if (server == null) {
      throw new CommandLine.ParameterException(cli, "give the server: --target HOST:PORT, or HOST:PORT last");
    }
    return server;
  }

  /**
   * A channel to {@link #target}.
   *
   * @param directExecutor answers handled on the transport's thread (for callbacks cheaper than a hand-off)
   * @throws CommandLine.ParameterException for a client certificate without its key
   */
  public ManagedChannel open(CommandLine cli, boolean directExecutor) throws SSLException {
    NettyChannelBuilder b = NettyChannelBuilder.forTarget(target(cli)).maxInboundMessageSize(MAX_INBOUND_BYTES);
    if (directExecutor) {
      b.directExecutor();
    }
    // grpc-java has one authority for both the :authority header and the name TLS verifies; --authority wins.
    String override = authority != null ? authority : cname;
    if (override != null) {
      b.overrideAuthority(override);
    }
    if (insecure) {
      return b.usePlaintext().build();
    }
    if (cacert == null && cert == null && !skipTls) {
      return b.useTransportSecurity().build();
    }
    SslContextBuilder ssl = GrpcSslContexts.forClient();
    if (skipTls) {
      ssl.trustManager(InsecureTrustManagerFactory.INSTANCE);
    } else if (cacert != null) {
      ssl.trustManager(cacert);
    }
    if (cert != null) {
      if (key == null) {
        throw new CommandLine.ParameterException(cli, "--cert needs --key");
      }
      ssl.keyManager(cert, key);
    }
    return b.sslContext(ssl.build()).build();
  }
}
