package io.junction.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.junction.proto.inference.GRPCInferenceServiceGrpc;
import io.junction.proto.inference.RepositoryModelUnloadRequest;
import io.junction.server.JunctionServer;
import io.junction.server.config.AdminAccess;
import io.junction.server.config.ModelControl;
import io.junction.server.config.ServerConfig;
import io.junction.server.config.TlsConfig;
import io.junction.testkit.DemoRepository;
import io.junction.testkit.TestCertificates;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
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

  /** A certificate signed by {@code ca} (or self-signed when {@code ca} is null), with SANs for loopback. */
  private Path[] certificate(String name, Path[] ca) throws Exception {
    return new TestCertificates(dir).issue(name, ca, "subjectAltName=IP:127.0.0.1,DNS:localhost");
  }

  @Test
  void mutualTlsChecksClientCertificatesNamesTheAdminAndRotatesWithoutARestart() throws Exception {
    Path[] ca = certificate("test-ca", null);
    Path[] serverCert = certificate("server", ca);
    Path[] adminBot = certificate("admin-bot", ca);
    Path[] user = certificate("user", ca);
    Path[] stranger = certificate("stranger", null); // not signed by the client CA
    // The server reads its certificate from files it watches; start with copies we can replace later.
    Path liveCert = Files.copy(serverCert[0], dir.resolve("live.pem"));
    Path liveKey = Files.copy(serverCert[1], dir.resolve("live.key"));

    Path repo = DemoRepository.write(dir.resolve("repo"));
    TlsConfig tls = new TlsConfig(liveCert, liveKey).withClientAuth(TlsConfig.ClientAuth.REQUIRE, ca[0])
        .withReloadInterval(Duration.ofMillis(200));
    ServerConfig config = ServerConfig.loopback(repo).withTls(tls)
        .withControl(ModelControl.explicit(Set.of("*")))
        .withAdmin(AdminAccess.NONE.withClientIdentities(Set.of("admin-bot")));
    InferRequest request = InferRequest.builder("mlp").input(InferInput.fp32("x", new float[8], 1, 8)).build();
    try (JunctionServer server = new JunctionServer(config).start()) {
      String target = "127.0.0.1:" + server.grpcPort();
      try (JunctionClient admin = client(target, ca[0], adminBot); JunctionClient plain = client(target, ca[0], user)) {
        assertThat(admin.infer(request).shape("y")).containsExactly(1, 4);
        assertThat(plain.infer(request).shape("y")).containsExactly(1, 4);
        var unload = RepositoryModelUnloadRequest.newBuilder().setModelName("mlp").build();
        assertThatThrownBy(() -> GRPCInferenceServiceGrpc.newBlockingStub(plain.channel())
                .repositoryModelUnload(unload))
            .as("a certificate the CA signed is not the admin's unless it names an admin identity")
            .isInstanceOfSatisfying(StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
        GRPCInferenceServiceGrpc.newBlockingStub(admin.channel()).repositoryModelUnload(unload);
        assertThat(admin.isModelReady("mlp")).as("the admin's certificate unloaded it").isFalse();
      }
      for (Path[] client : Arrays.asList(null, stranger)) {
        try (JunctionClient refused = client == null
            ? JunctionClient.builder(target).tls(ca[0].toFile()).build() : client(target, ca[0], client)) {
          assertThatThrownBy(refused::isServerLive).as("client %s", client == null ? "without a certificate" : "stranger")
              .isInstanceOfSatisfying(JunctionException.class, e -> assertThat(e.code()).isEqualTo(Status.Code.UNAVAILABLE));
        }
      }

      // Rotation: a certificate from a new CA replaces the files; new connections get it, no restart.
      Path[] ca2 = certificate("test-ca-2", null);
      Path[] rotated = certificate("server-2", ca2);
      Files.copy(rotated[1], liveKey, StandardCopyOption.REPLACE_EXISTING);
      Thread.sleep(1000); // five checks see a new key beside the old certificate: a pair that does not match
      try (JunctionClient meanwhile = client(target, ca[0], adminBot)) {
        assertThat(meanwhile.isServerLive()).as("a half-rotated pair is not used").isTrue();
      }
      Files.copy(rotated[0], liveCert, StandardCopyOption.REPLACE_EXISTING);
      Awaitility.await().atMost(Duration.ofSeconds(15)).ignoreExceptions().untilAsserted(() -> {
        try (JunctionClient next = client(target, ca2[0], adminBot)) {
          assertThat(next.isServerLive()).isTrue();
        }
      });
      try (JunctionClient old = client(target, ca[0], adminBot)) {
        assertThatThrownBy(old::isServerLive).as("the old certificate is no longer served")
            .isInstanceOf(JunctionException.class);
      }
    }
  }

  private static JunctionClient client(String target, Path trusted, Path[] certificate) {
    return JunctionClient.builder(target).tls(trusted.toFile())
        .clientCertificate(certificate[0].toFile(), certificate[1].toFile()).build();
  }
}
