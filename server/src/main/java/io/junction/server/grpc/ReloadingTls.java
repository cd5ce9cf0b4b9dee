package io.junction.server.grpc;

import io.grpc.netty.GrpcSslContexts;
import io.grpc.util.AdvancedTlsX509KeyManager;
import io.grpc.util.AdvancedTlsX509TrustManager;
import io.grpc.util.CertificateUtils;
import io.junction.server.concurrent.NamedThreadFactory;
import io.junction.server.config.TlsConfig;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's TLS context, whose certificate, key and client CA are re-read when their files change:
 * every {@link TlsConfig#reloadInterval()} the {@code junction-tls-reload} thread (owned here) hashes
 * the files, and a change that makes a valid pair (the key signs what the certificate verifies) is
 * handed to grpc-java's advanced TLS managers, so new connections get it without a restart. A
 * half-copied or mismatched pair is refused with one WARN line and the previous one stays in use.
 * (grpc-java's own file watching checks at most once a minute and cannot tell a pair that does not match.)
 */
final class ReloadingTls implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ReloadingTls.class);

  private final TlsConfig tls;
  private final AdvancedTlsX509KeyManager keys = new AdvancedTlsX509KeyManager();
  private final Optional<AdvancedTlsX509TrustManager> trust;
  private final ScheduledExecutorService reloader =
      Executors.newSingleThreadScheduledExecutor(new NamedThreadFactory("junction-tls-reload", true));
  private final SslContext context;
  private String identityHash = "";
  private String trustHash = "";
  private String lastFailure = "";

  /** @throws IllegalArgumentException when the files cannot be used, naming them */
  ReloadingTls(TlsConfig tls) {
    this.tls = tls;
    try {
      reloadIdentity();
      SslContextBuilder builder = SslContextBuilder.forServer(keys);
      if (tls.clientAuth() != TlsConfig.ClientAuth.NONE) {
        trust = Optional.of(AdvancedTlsX509TrustManager.newBuilder()
            .setVerification(AdvancedTlsX509TrustManager.Verification.CERTIFICATE_ONLY_VERIFICATION).build());
        reloadTrust();
        builder.trustManager(trust.get()).clientAuth(tls.clientAuth() == TlsConfig.ClientAuth.REQUIRE
            ? ClientAuth.REQUIRE : ClientAuth.OPTIONAL);
      } else {
        trust = Optional.empty();
      }
      this.context = GrpcSslContexts.configure(builder).build();
    } catch (IOException | GeneralSecurityException | RuntimeException e) {
      reloader.shutdownNow();
      throw new IllegalArgumentException("cannot use the TLS certificate " + tls.certificateChain() + " and key "
          + tls.privateKey() + tls.clientCa().map(ca -> " with client CA " + ca).orElse("") + ": " + e.getMessage(), e);
    }
    long period = tls.reloadInterval().toMillis();
    reloader.scheduleWithFixedDelay(this::check, period, period, TimeUnit.MILLISECONDS);
  }

  SslContext context() {
    return context;
  }

  private void check() {
    try {
      if (reloadIdentity()) {
        log.info("TLS certificate {} reloaded; new connections use it", tls.certificateChain());
      }
      if (trust.isPresent() && reloadTrust()) {
        log.info("client CA bundle {} reloaded; new connections are checked against it", tls.clientCa().orElseThrow());
      }
      lastFailure = "";
    } catch (IOException | GeneralSecurityException | RuntimeException e) {
      String reason = e.getClass().getSimpleName() + ": " + e.getMessage();
      if (!reason.equals(lastFailure)) {
        lastFailure = reason;
        log.warn("TLS files changed but cannot be used ({}); the previous certificates stay in use", reason);
      }
    }
  }

  /** Installs the certificate and key when their files changed and make a valid pair; whether it did. */
  private boolean reloadIdentity() throws IOException, GeneralSecurityException {
    byte[] certPem = Files.readAllBytes(tls.certificateChain());
    byte[] keyPem = Files.readAllBytes(tls.privateKey());
    String hash = sha256(certPem, keyPem);
    if (hash.equals(identityHash)) {
      return false;
    }
    X509Certificate[] chain = CertificateUtils.getX509Certificates(new ByteArrayInputStream(certPem));
    PrivateKey key = CertificateUtils.getPrivateKey(new ByteArrayInputStream(keyPem));
    if (chain.length == 0) {
      throw new GeneralSecurityException(tls.certificateChain() + " holds no certificate");
    }
    requireMatch(chain[0], key);
    keys.updateIdentityCredentials(chain, key);
    identityHash = hash;
    return true;
  }

  private boolean reloadTrust() throws IOException, GeneralSecurityException {
    Path ca = tls.clientCa().orElseThrow();
    byte[] pem = Files.readAllBytes(ca);
    String hash = sha256(pem);
    if (hash.equals(trustHash)) {
      return false;
    }
    X509Certificate[] cas = CertificateUtils.getX509Certificates(new ByteArrayInputStream(pem));
    if (cas.length == 0) {
      throw new GeneralSecurityException(ca + " holds no certificate");
    }
    trust.orElseThrow().updateTrustCredentials(cas);
    trustHash = hash;
    return true;
  }

  /** The key must sign what the certificate's public key verifies: a copy caught halfway does not. */
  private void requireMatch(X509Certificate cert, PrivateKey key) throws GeneralSecurityException {
    String algorithm = switch (key.getAlgorithm()) {
      case "RSA" -> "SHA256withRSA";
      case "EC" -> "SHA256withECDSA";
      case "Ed25519", "EdDSA" -> "Ed25519";
      default -> null;
    };
    if (algorithm == null) {
      return; // an unusual key type: the handshake will tell
    }
    byte[] challenge = "junction-tls-pair-check".getBytes(StandardCharsets.US_ASCII);
    Signature signer = Signature.getInstance(algorithm);
    signer.initSign(key);
    signer.update(challenge);
    byte[] signature = signer.sign();
    Signature verifier = Signature.getInstance(algorithm);
    verifier.initVerify(cert.getPublicKey());
    verifier.update(challenge);
    if (!verifier.verify(signature)) {
      throw new GeneralSecurityException("the private key " + tls.privateKey() + " does not belong to the certificate "
          + tls.certificateChain());
    }
  }

  private static String sha256(byte[]... parts) throws GeneralSecurityException {
    MessageDigest digest = MessageDigest.getInstance("SHA-256");
    Arrays.stream(parts).forEach(digest::update);
    return HexFormat.of().formatHex(digest.digest());
  }

  @Override
  public void close() {
    reloader.shutdownNow();
  }
}
