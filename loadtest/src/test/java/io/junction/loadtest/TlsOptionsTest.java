package io.junction.loadtest;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.junction.server.JunctionServer;
import io.junction.server.config.ServerConfig;
import io.junction.server.config.TlsConfig;
import io.junction.testkit.DemoRepository;
import io.junction.testkit.TestCertificates;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** ghz's TLS options against a server that requires client certificates (certificates made by openssl). */
class TlsOptionsTest {
  @TempDir Path dir;

  @Test
  void certKeyCnameAndSkipTlsWorkAsInGhz() throws Exception {
    TestCertificates certificates = new TestCertificates(dir);
    Path[] ca = certificates.issue("ca", null, "");
    Path[] server = certificates.issue("server", ca, "subjectAltName=DNS:junction.internal");
    Path[] client = certificates.issue("client", ca, "basicConstraints=CA:FALSE");
    TlsConfig tls = new TlsConfig(server[0], server[1]).withClientAuth(TlsConfig.ClientAuth.REQUIRE, ca[0]);
    try (JunctionServer junction = new JunctionServer(ServerConfig.loopback(DemoRepository.write(dir.resolve("repo")))
        .withTls(tls)).start()) {
      String target = "127.0.0.1:" + junction.grpcPort();
      // The certificate names junction.internal, not 127.0.0.1: --cname says which name to verify.
      JsonObject ok = run(target, "--cacert", ca[0].toString(), "--cert", client[0].toString(), "--key",
          client[1].toString(), "--cname", "junction.internal");
      assertThat(ok.getAsJsonObject("statusCodeDistribution").get("OK").getAsLong()).isEqualTo(10);
      JsonObject skipped = run(target, "--skipTLS", "--cert", client[0].toString(), "--key", client[1].toString());
      assertThat(skipped.getAsJsonObject("statusCodeDistribution").get("OK").getAsLong()).as("no verification").isEqualTo(10);

      StringWriter out = new StringWriter();
      CommandLine cli = LoadTest.commandLine();
      cli.setOut(new PrintWriter(out));
      cli.setErr(new PrintWriter(out));
      int exit = cli.execute("--cacert", ca[0].toString(), "--cname", "junction.internal", "--model", "mlp", "-n", "2",
          "-O", "json", target);
      assertThat(exit).as("without a client certificate the server refuses: " + out).isNotZero();
    }
  }

  private JsonObject run(String target, String... tls) {
    List<String> args = new ArrayList<>(List.of(tls));
    args.addAll(List.of("--model", "mlp", "-c", "2", "-n", "10", "-O", "json", target));
    StringWriter out = new StringWriter();
    CommandLine cli = LoadTest.commandLine();
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(out));
    assertThat(cli.execute(args.toArray(String[]::new))).as(out.toString()).isZero();
    return JsonParser.parseString(out.toString()).getAsJsonObject();
  }
}
