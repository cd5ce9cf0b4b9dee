package io.junction.server.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/** TLS for the gRPC port: PEM certificate chain and PKCS#8 PEM private key. */
public record TlsConfig(Path certificateChain, Path privateKey) {
  public TlsConfig {
    Objects.requireNonNull(certificateChain, "certificateChain");
    Objects.requireNonNull(privateKey, "privateKey");
    if (!Files.isReadable(certificateChain)) {
      throw new IllegalArgumentException("TLS certificate chain " + certificateChain + " is not readable");
    }
    if (!Files.isReadable(privateKey)) {
      throw new IllegalArgumentException("TLS private key " + privateKey + " is not readable");
    }
  }
}
