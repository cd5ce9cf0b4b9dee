package io.junction.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Certificates for TLS tests, made by the {@code openssl} command (CI installs it): PEM certificates and
 * PKCS#8 PEM keys, valid for a day, written to one directory.
 */
public final class TestCertificates {
  private final Path dir;

  public TestCertificates(Path dir) {
    this.dir = dir;
  }

  /**
   * A certificate named {@code name}: self-signed (a CA) when {@code ca} is null, else signed by it with
   * {@code extensions} (e.g. {@code subjectAltName=IP:127.0.0.1,DNS:localhost}).
   *
   * @param ca a certificate and its key, as this returns them
   * @return the certificate, then its key
   */
  public Path[] issue(String name, Path[] ca, String extensions) throws IOException, InterruptedException {
    Path key = dir.resolve(name + ".key");
    Path cert = dir.resolve(name + ".pem");
    if (ca == null) {
      openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=" + name,
          "-keyout", key.toString(), "-out", cert.toString());
    } else {
      Path csr = dir.resolve(name + ".csr");
      Path ext = Files.writeString(dir.resolve(name + ".ext"), extensions + "\n");
      openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + name, "-keyout", key.toString(),
          "-out", csr.toString());
      openssl("x509", "-req", "-in", csr.toString(), "-CA", ca[0].toString(), "-CAkey", ca[1].toString(),
          "-CAcreateserial", "-days", "1", "-extfile", ext.toString(), "-out", cert.toString());
    }
    return new Path[] {cert, key};
  }

  private static void openssl(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of("openssl"));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException(String.join(" ", command) + " failed: " + output);
    }
  }
}
