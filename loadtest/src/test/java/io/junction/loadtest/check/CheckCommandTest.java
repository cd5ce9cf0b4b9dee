package io.junction.loadtest.check;

import static org.assertj.core.api.Assertions.assertThat;

import io.junction.loadtest.LoadTest;
import io.junction.server.JunctionServer;
import io.junction.server.config.ServerConfig;
import io.junction.testkit.DemoRepository;
import io.junction.testkit.NpzWriter;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code junction-loadtest check} against a real server: golden cases pass, and a changed model is caught. */
class CheckCommandTest {
  @TempDir static Path dir;
  static JunctionServer server;

  @BeforeAll
  static void start() throws Exception {
    server = new JunctionServer(ServerConfig.loopback(DemoRepository.write(dir.resolve("repo")))).start();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private record Run(int exit, String out) {}

  private static Run check(Path golden, String version) {
    StringWriter out = new StringWriter();
    CommandLine cli = LoadTest.commandLine();
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(out));
    int exit = cli.execute("check", "--insecure", "--model", "mlp", "--model-version", version, "--golden", golden.toString(),
        "127.0.0.1:" + server.grpcPort());
    return new Run(exit, out.toString());
  }

  private static String numbers(float[] values) {
    return "[" + Arrays.stream(toDoubles(values)).mapToObj(v -> String.format(Locale.ROOT, "%.8g", v))
        .collect(Collectors.joining(", ")) + "]";
  }

  private static double[] toDoubles(float[] f) {
    double[] d = new double[f.length];
    for (int i = 0; i < f.length; i++) {
      d[i] = f[i];
    }
    return d;
  }

  /** Golden cases of version 1 of the demo mlp, with its outputs computed here, not by the server. */
  private static Path golden(float shift) throws Exception {
    float[] one = {1, -2, 3, -4, 5, -6, 7, -8};
    float[] two = {0.5f, 0.25f, -1, 2, 0, 0, 1, 1, 3, 3, -3, -3, 0.1f, 0.2f, 0.3f, 0.4f};
    float[] yOne = DemoRepository.mlp(1).expected(one, 1);
    float[] yTwo = DemoRepository.mlp(1).expected(two, 2);
    yTwo[5] += shift;
    String lines = String.join("\n",
        "# golden cases of mlp version 1",
        "{\"name\": \"one-row\", \"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [1, 8], \"data\": "
            + numbers(one) + "}], \"outputs\": [{\"name\": \"y\", \"data\": " + numbers(yOne) + "}]}",
        "{\"name\": \"two-rows\", \"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [2, 8], \"data\": "
            + "[" + numbers(Arrays.copyOfRange(two, 0, 8)) + ", " + numbers(Arrays.copyOfRange(two, 8, 16)) + "]}], "
            + "\"outputs\": [{\"name\": \"y\", \"data\": " + numbers(yTwo) + ", \"atol\": 1e-4}]}",
        "{\"name\": \"best-class\", \"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [1, 8], \"data\": "
            + numbers(one) + "}], \"outputs\": [{\"name\": \"y\", \"data\": " + numbers(yOne) + ", \"top_k\": 1}]}");
    Path file = Files.createTempFile(dir, "golden", ".jsonl");
    Files.writeString(file, lines);
    return file;
  }

  @Test
  void theGoldenCasesOfTheModelPass() throws Exception {
    Run run = check(golden(0), "1");
    assertThat(run.exit()).as(run.out()).isZero();
    assertThat(run.out()).contains("PASS  one-row y: max |diff|", "PASS  two-rows y", "PASS  best-class y: top-1 classes agree",
        "3 of 3 golden cases passed (mlp version 1");
  }

  @Test
  void aDeviationBeyondTheToleranceFailsTheCaseAndTheExitStatusSaysSo() throws Exception {
    Run run = check(golden(0.01f), "1");
    assertThat(run.exit()).as(run.out()).isEqualTo(1);
    assertThat(run.out()).contains("FAIL  two-rows y: largest deviation 0.0100 (element 5:", "allowed 0.000")
        .contains("PASS  one-row", "2 of 3 golden cases passed");
  }

  @Test
  void anotherVersionOfTheModelIsCaught() throws Exception {
    Run run = check(golden(0), "2");
    assertThat(run.exit()).as(run.out()).isEqualTo(1);
    assertThat(run.out()).contains("FAIL  one-row y: largest deviation");
  }

  @Test
  void anNpzGoldenFileChecksTheModelAsTheJsonOneDoes() throws Exception {
    float[] x = {1, -2, 3, -4, 5, -6, 7, -8};
    float[] y = DemoRepository.mlp(1).expected(x, 1);
    Path npz = new NpzWriter().floats("row/input.x", new long[] {1, 8}, x).floats("row/output.y", new long[] {1, y.length}, y)
        .write(dir.resolve("golden.npz"), true);

    Run one = check(npz, "1");
    Run two = check(npz, "2");

    assertThat(one.exit()).as(one.out()).isZero();
    assertThat(one.out()).contains("PASS  row y: max |diff|", "1 of 1 golden cases passed");
    assertThat(two.exit()).as(two.out()).isEqualTo(1);
    assertThat(two.out()).contains("FAIL  row y: largest deviation");
  }

  @Test
  void aBrokenGoldenFileIsAOneLineError() throws Exception {
    Path bad = Files.createTempFile(dir, "bad", ".jsonl");
    Files.writeString(bad, "{\"name\": \"x\", \"inputs\": 3}\n");
    Run run = check(bad, "1");
    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.out()).contains("--golden:", "line 1", "\"inputs\" must be an array");
    Run missing = check(dir.resolve("absent.jsonl"), "1");
    assertThat(missing.exit()).isEqualTo(2);
    assertThat(missing.out()).contains("--golden: " + dir.resolve("absent.jsonl") + ": no such file");
  }
}
