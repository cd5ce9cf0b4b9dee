package io.junction.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.junction.server.JunctionServer;
import io.junction.server.config.ServerConfig;
import io.junction.server.config.TlsConfig;
import io.junction.testkit.DemoRepository;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** TLS end to end, with a self-signed certificate made by the openssl command for this test. */
class TlsTest {
  @TempDir Path dir;

  @Test
  void clientTrustingTheServersCertificateTalksTls() throws Exception {
    Path cert = dir.resolve("cert.pem");
    Path key = dir.resolve("key.pem");
    Process openssl = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        "-keyout", key.toString(), "-out", cert.toString()).redirectErrorStream(true).start();
    String output = new String(openssl.getInputStream().readAllBytes());
    assertThat(openssl.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(openssl.exitValue()).as(output).isZero();

    Path repo = DemoRepository.write(dir.resolve("repo"));
    try (JunctionServer server = new JunctionServer(ServerConfig.loopback(repo).withTls(new TlsConfig(cert, key)))
        .start()) {
      String target = "127.0.0.1:" + server.grpcPort();
      try (JunctionClient tls = JunctionClient.builder(target).tls(cert.toFile()).build()) {
        assertThat(tls.isServerReady()).isTrue();
        assertThat(tls.infer(InferRequest.builder("mlp").input(InferInput.fp32("x", new float[8], 1, 8)).build())
            .shape("y")).containsExactly(1, 4);
      }
      try (JunctionClient plaintext = JunctionClient.builder(target).plaintext().build()) {
        assertThatThrownBy(plaintext::isServerLive).isInstanceOfSatisfying(JunctionException.class,
            e -> assertThat(e.code()).isEqualTo(Status.Code.UNAVAILABLE));
      }
    }
  }
}
