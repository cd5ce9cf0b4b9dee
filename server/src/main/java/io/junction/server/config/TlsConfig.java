package io.junction.server.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * TLS for the gRPC ports: a PEM certificate chain and PKCS#8 PEM private key, and optionally client
 * certificates (mTLS) checked against a CA bundle. The files are re-read when they change (checked every
 * {@code reloadInterval}), so certificates rotate without a restart; connections already open keep the
 * certificates they were made with.
 *
 * @param clientAuth whether clients must (REQUIRE), may (OPTIONAL) or do not (NONE) present a certificate
 * @param clientCa PEM bundle of the CAs whose client certificates are trusted; required unless NONE
 */
public record TlsConfig(Path certificateChain, Path privateKey, ClientAuth clientAuth, Optional<Path> clientCa,
    Duration reloadInterval) {
  public enum ClientAuth { NONE, OPTIONAL, REQUIRE }

  public static final Duration DEFAULT_RELOAD_INTERVAL = Duration.ofSeconds(10);

  public TlsConfig(Path certificateChain, Path privateKey) {
    this(certificateChain, privateKey, ClientAuth.NONE, Optional.empty(), DEFAULT_RELOAD_INTERVAL);
  }

  public TlsConfig {
    Objects.requireNonNull(certificateChain, "certificateChain");
    Objects.requireNonNull(privateKey, "privateKey");
    Objects.requireNonNull(clientAuth, "clientAuth");
    Objects.requireNonNull(clientCa, "clientCa");
    Objects.requireNonNull(reloadInterval, "reloadInterval");
    readable("TLS certificate chain", certificateChain);
    readable("TLS private key", privateKey);
    if (clientAuth != ClientAuth.NONE && clientCa.isEmpty()) {
      throw new IllegalArgumentException("client certificates (--grpc-tls-client-auth " + clientAuth.name()
          .toLowerCase(Locale.ROOT) + ") need a CA bundle to check them against (--grpc-tls-client-ca)");
    }
    clientCa.ifPresent(ca -> readable("client CA bundle", ca));
    if (reloadInterval.isNegative() || reloadInterval.isZero()) {
      throw new IllegalArgumentException("the certificate reload interval must be positive, got " + reloadInterval);
    }
  }

  /** The same, with client certificates checked against {@code ca}. */
  public TlsConfig withClientAuth(ClientAuth auth, Path ca) {
    return new TlsConfig(certificateChain, privateKey, auth, Optional.of(ca), reloadInterval);
  }

  public TlsConfig withReloadInterval(Duration interval) {
    return new TlsConfig(certificateChain, privateKey, clientAuth, clientCa, interval);
  }

  private static void readable(String what, Path file) {
    if (!Files.isReadable(file)) {
      throw new IllegalArgumentException(what + " " + file + " is not readable");
    }
  }
}
