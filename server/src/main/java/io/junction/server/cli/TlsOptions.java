package io.junction.server.cli;

import io.junction.server.config.TlsConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import picocli.CommandLine.Option;

/** TLS on the gRPC port(s), with client certificates (mTLS) when asked for. */
public final class TlsOptions {
  @Option(names = "--grpc-use-ssl", defaultValue = "false", arity = "0..1", fallbackValue = "true",
      paramLabel = "BOOL",
      description = "Serve gRPC over TLS (default: ${DEFAULT-VALUE}); needs --grpc-server-cert and --grpc-server-key.")
  boolean useSsl;

  @Option(names = "--grpc-server-cert", paramLabel = "PEM", description = "TLS certificate chain (PEM).")
  Path serverCert;

  @Option(names = "--grpc-server-key", paramLabel = "PEM", description = "TLS private key (PKCS#8 PEM).")
  Path serverKey;

  @Option(names = "--grpc-tls-client-auth", defaultValue = "none", paramLabel = "none|optional|require",
      description = "Client certificates (mTLS): not asked for, checked when presented, or required "
          + "(default: ${DEFAULT-VALUE}); needs --grpc-tls-client-ca.")
  TlsConfig.ClientAuth clientAuth;

  @Option(names = "--grpc-tls-client-ca", paramLabel = "PEM",
      description = "CA bundle (PEM) that client certificates must chain to.")
  Path clientCa;

  @Option(names = "--grpc-tls-reload-secs", defaultValue = "10", paramLabel = "N",
      description = "How often the certificate, key and CA files are checked for changes; changed files are "
          + "used for new connections without a restart (default: ${DEFAULT-VALUE}).")
  long reloadSeconds;

  /** The TLS settings, or empty for plaintext; the files are checked to be readable. */
  public Optional<TlsConfig> tls() {
    if (!useSsl) {
      if (serverCert != null || serverKey != null) {
        throw new IllegalArgumentException("--grpc-server-cert and --grpc-server-key need --grpc-use-ssl true");
      }
      return Optional.empty();
    }
    if (serverCert == null || serverKey == null) {
      throw new IllegalArgumentException("--grpc-use-ssl true needs --grpc-server-cert and --grpc-server-key");
    }
    Positive.number("--grpc-tls-reload-secs", reloadSeconds);
    return Optional.of(new TlsConfig(serverCert, serverKey, clientAuth, Optional.ofNullable(clientCa),
        Duration.ofSeconds(reloadSeconds)));
  }
}
