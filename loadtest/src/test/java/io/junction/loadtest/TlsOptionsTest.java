package io.junction.loadtest;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.junction.server.JunctionServer;
import io.junction.server.config.ServerConfig;
import io.junction.server.config.TlsConfig;
import io.junction.testkit.DemoRepository;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** ghz's TLS options against a server that requires client certificates (certificates made by openssl). */
class TlsOptionsTest {
  @TempDir Path dir;

  @Test
  void certKeyCnameAndSkipTlsWorkAsInGhz() throws Exception {
    Path[] ca = certificate("ca", null, "");
    Path[] server = certificate("server", ca, "subjectAltName=DNS:junction.internal");
    Path[] client = certificate("client", ca, "");
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

  /** A PEM certificate and PKCS#8 key signed by {@code ca} (self-signed when null). */
  private Path[] certificate(String name, Path[] ca, String extension) throws Exception {
    Path key = dir.resolve(name + ".key");
    Path cert = dir.resolve(name + ".pem");
    if (ca == null) {
      openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=" + name, "-keyout",
          key.toString(), "-out", cert.toString());
    } else {
      Path csr = dir.resolve(name + ".csr");
      Path ext = dir.resolve(name + ".ext");
      java.nio.file.Files.writeString(ext, extension.isEmpty() ? "basicConstraints=CA:FALSE\n" : extension + "\n");
      openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + name, "-keyout", key.toString(), "-out",
          csr.toString());
      openssl("x509", "-req", "-in", csr.toString(), "-CA", ca[0].toString(), "-CAkey", ca[1].toString(),
          "-CAcreateserial", "-days", "1", "-extfile", ext.toString(), "-out", cert.toString());
    }
    return new Path[] {cert, key};
  }

  private static void openssl(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("openssl"));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(output).isZero();
  }
}
