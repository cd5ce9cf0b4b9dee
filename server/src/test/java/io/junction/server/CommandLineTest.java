package io.junction.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.junction.server.cli.ConfigDefaults;
import io.junction.server.cli.DurationConverter;
import io.junction.server.config.AdminAccess;
import io.junction.server.config.ModelControl;
import io.junction.server.config.ServerConfig;
import io.junction.server.config.TlsConfig;
import io.junction.server.device.DeviceId;
import io.junction.server.drift.DriftMonitor;
import io.junction.testkit.DocumentedCommands;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/** The {@code junction-server} command line: what each option becomes, and what a wrong value is told. */
class CommandLineTest {
  @TempDir Path dir;

  private static Main parse(String... args) {
    return parse(Map.of(), args);
  }

  private static Main parse(Map<String, String> environment, String... args) {
    Main main = new Main();
    Main.commandLine(main, environment).parseArgs(args);
    return main;
  }

  /** What junction-server prints to standard error for these arguments and environment, and its exit code. */
  private record Run(int exit, List<String> err) {}

  /**
   * Parses and checks the options as {@code main} does before it serves, and answers a wrong one with the command's
   * own handler; never serves, so a wrong value that goes unnoticed fails the test instead of hanging it.
   */
  private Run run(Map<String, String> environment, String... args) throws Exception {
    List<String> argv = new ArrayList<>(List.of("--model-repository", dir.toString()));
    argv.addAll(List.of(args));
    StringWriter err = new StringWriter();
    Main main = new Main();
    CommandLine cli = Main.commandLine(main, environment);
    cli.setErr(new PrintWriter(err, true));
    try {
      cli.parseArgs(argv.toArray(String[]::new));
      main.config(dir);
      return new Run(0, List.of());
    } catch (CommandLine.ParameterException e) {
      int exit = cli.getParameterExceptionHandler().handleParseException(e, argv.toArray(String[]::new));
      return new Run(exit, err.toString().lines().toList());
    }
  }

  @Test
  void withoutOptionsTheServerRunsWithItsOwnDefaults() {
    Main main = parse();
    assertThat(main.config(dir)).isEqualTo(ServerConfig.defaults(dir));
    assertThat(main.tracing).isTrue();
    assertThat(main.drainDelay).isEqualTo(Duration.ofSeconds(5));
    assertThat(main.exitTimeout).isEqualTo(Duration.ofSeconds(30));
  }

  @Test
  void eachPartOfTheServerTakesItsOptions() throws IOException {
    Path cert = Files.writeString(dir.resolve("cert.pem"), "chain");
    Path key = Files.writeString(dir.resolve("key.pem"), "key");
    Path ca = Files.writeString(dir.resolve("ca.pem"), "ca");
    Path token = Files.writeString(dir.resolve("token"), "0123456789abcdef0123\n");
    ServerConfig config = parse("--grpc-port", "9001", "--http-port", "-1", "--cpu-slots", "3",
        "--gpu-slots", "4", "--max-queue-size", "7", "--default-max-batch-size", "0",
        "--model-control-mode", "EXPLICIT", "--load-model", "a", "--load-model", "b",
        "--model-memory-budget", "cpu=2g", "--pin-model", "a", "--model-footprint", "files", "--model-warmup-auto",
        "--grpc-max-message-size", "1048576", "--grpc-max-connection-age", "1m30s",
        "--grpc-max-connection-age-grace", "500ms", "--grpc-request-read-timeout-secs", "5",
        "--grpc-answer-stall-timeout-secs", "6", "--grpc-large-request-bytes", "65536", "--grpc-max-connections", "77",
        "--grpc-use-ssl", "--grpc-server-cert", cert.toString(), "--grpc-server-key", key.toString(),
        "--grpc-tls-client-auth", "require", "--grpc-tls-client-ca", ca.toString(), "--grpc-tls-reload-secs", "2",
        "--http-max-connections", "9", "--http-request-timeout-secs", "4",
        "--admin-token-file", token.toString(), "--admin-port", "0", "--repository-api", "open",
        "--payload-log-url", "http://logs:8080/", "--payload-log-sample-rate", "0.25", "--payload-log-what", "errors",
        "--payload-log-exclude", "pixels, secret", "--drift", "true", "--drift-window", "50",
        "--feedback-ttl", "2h", "--status-page=false", "--metrics-latency-summaries", "true",
        "--strict-readiness", "false").config(dir);

    assertThat(config.grpcPort()).isEqualTo(9001);
    assertThat(config.httpPort()).isEqualTo(-1);
    assertThat(config.cpuSlots()).isEqualTo(3);
    assertThat(config.devices().gpuSlots()).isEqualTo(4);
    assertThat(config.maxQueueSize()).isEqualTo(7);
    assertThat(config.defaultMaxBatchSize()).isZero();
    assertThat(config.control()).isEqualTo(new ModelControl(ModelControl.Mode.EXPLICIT, Set.of("a", "b"),
        Duration.ofSeconds(15), Map.of(DeviceId.CPU, 2L << 30), Set.of("a"), true, false));
    assertThat(config.limits().maxInboundMessageBytes()).isEqualTo(1 << 20);
    assertThat(config.limits().inboundMemory().perConnectionBytes()).isEqualTo(2 << 20);
    assertThat(config.limits().inboundMemory().largeMessageBytes()).isEqualTo(65536);
    assertThat(config.limits().maxConnectionAge()).isEqualTo(Duration.ofSeconds(90));
    assertThat(config.limits().maxConnectionAgeGrace()).isEqualTo(Duration.ofMillis(500));
    assertThat(config.limits().requestReadTimeout()).isEqualTo(Duration.ofSeconds(5));
    assertThat(config.limits().answerStallTimeout()).isEqualTo(Duration.ofSeconds(6));
    assertThat(config.limits().maxConnections()).isEqualTo(77);
    assertThat(config.tls()).contains(new TlsConfig(cert, key, TlsConfig.ClientAuth.REQUIRE, Optional.of(ca),
        Duration.ofSeconds(2)));
    assertThat(config.httpLimits().maxConnections()).isEqualTo(9);
    assertThat(config.httpLimits().requestTimeout()).isEqualTo(Duration.ofSeconds(4));
    assertThat(config.admin()).isEqualTo(new AdminAccess(Optional.of("0123456789abcdef0123"), Set.of(), true,
        Optional.of(new AdminAccess.Listener(AdminAccess.Listener.DEFAULT_ADDRESS, 0))));
    assertThat(config.payloadLog().cloudEvents()).contains(URI.create("http://logs:8080/"));
    assertThat(config.payloadLog().policy().sampleRate()).isEqualTo(0.25);
    assertThat(config.payloadLog().policy().inputs()).isFalse();
    assertThat(config.payloadLog().policy().errors()).isTrue();
    assertThat(config.payloadLog().policy().excluded()).containsExactlyInAnyOrder("pixels", "secret");
    assertThat(config.drift()).contains(new DriftMonitor.Settings(0, 50, 5));
    assertThat(config.feedback().ttl()).isEqualTo(Duration.ofHours(2));
    assertThat(config.statusPage().enabled()).isFalse();
    assertThat(config.metrics().latencySummaries()).isTrue();
    assertThat(config.strictReadiness()).isFalse();
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = ';', value = {
      "--tracing; true", "--tracing true; true", "--tracing=false; false", "--tracing false; false",
      "--tracing FALSE; false"})
  void aBooleanOptionTakesAValueOrStandsAlone(String args, boolean expected) {
    assertThat(parse(args.split(" ")).tracing).isEqualTo(expected);
  }

  @Test
  void durationsAreReadAsPeopleWriteThem() {
    assertThat(DurationConverter.parse("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(DurationConverter.parse("5s")).isEqualTo(Duration.ofSeconds(5));
    assertThat(DurationConverter.parse(" 2M ")).isEqualTo(Duration.ofMinutes(2));
    assertThat(DurationConverter.parse("1h")).isEqualTo(Duration.ofHours(1));
    assertThat(DurationConverter.parse("1m30s")).isEqualTo(Duration.ofSeconds(90));
    assertThat(DurationConverter.parse("1h30m")).isEqualTo(Duration.ofMinutes(90));
    assertThat(DurationConverter.parse("1.5")).isEqualTo(Duration.ofMillis(1500));
    assertThat(DurationConverter.parse("0")).isZero();
    for (String wrong : List.of("soon", "-5s", "1h-30m", "10 s", "1m30", "30s1m", "1,5s", "5x", "", "1e3s",
        "99999999999999999999h")) {
      assertThatThrownBy(() -> DurationConverter.parse(wrong)).as(wrong)
          .isInstanceOf(CommandLine.TypeConversionException.class)
          .hasMessage("'" + wrong + "' is not a duration such as 500ms, 5s, 2m, 1h or 1m30s");
    }
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = ';', value = {
      "--drain-delay soon; Invalid value for option '--drain-delay': 'soon' is not a duration such as 500ms, 5s, "
          + "2m, 1h or 1m30s",
      "--model-control-mode lazy; Invalid value for option '--model-control-mode': expected one of [NONE, POLL, "
          + "EXPLICIT] (case-insensitive) but was 'lazy'",
      "--cpu-slots 0; CPU execution slots (--cpu-slots) must be at least 1, got 0",
      "--grpc-server-cert c.pem; --grpc-server-cert and --grpc-server-key need --grpc-use-ssl true",
      "--grpc-use-ssl; --grpc-use-ssl true needs --grpc-server-cert and --grpc-server-key",
      "--grpc-max-connection-age 0; --grpc-max-connection-age must be longer than 0",
      "--grpc-request-read-timeout-secs 0; --grpc-request-read-timeout-secs must be at least 1, got 0",
      "--grpc-answer-stall-timeout-secs 0; --grpc-answer-stall-timeout-secs must be at least 1, got 0",
      "--grpc-max-connections 0; --grpc-max-connections must be at least 1, got 0",
      "--grpc-max-message-size 2000 --grpc-max-incomplete-bytes-per-connection 1000; "
          + "--grpc-max-incomplete-bytes-per-connection (1000) must hold one message of --grpc-max-message-size (2000)",
      "--grpc-max-incomplete-bytes-per-connection 4096 --grpc-max-incomplete-bytes 1024 --grpc-max-message-size 1024; "
          + "--grpc-max-incomplete-bytes (1024) must be at least one connection's, "
          + "--grpc-max-incomplete-bytes-per-connection (4096)",
      "--feedback-ttl 0; --feedback-ttl must be longer than 0",
      "--load-model a; --load-model needs --model-control-mode explicit",
      "--pin-model a; --pin-model needs --model-memory-budget: without a budget every model stays loaded, and nothing "
          + "is pinned",
      "--model-memory-budget gpu=4g; --model-memory-budget must look like cpu=4g,gpu:0=70g, got 'gpu=4g'",
      "--payload-log-what everything; --payload-log-what takes inputs, outputs and errors, got 'everything'",
      "--payload-log-sample-rate 2; --payload-log-sample-rate must be within [0, 1], got 2.0",
      "--drift --drift-window 0; --drift-window must be at least 1, got 0",
      "--admin-token-file /no/such/token; --admin-token-file /no/such/token cannot be read: no such file or "
          + "directory",
      "--http-max-connections 0; HTTP connections (--http-max-connections) must be at least 1, got 0"})
  void aWrongValueIsToldWithItsOptionInOneLineAndNothingStarts(String args, String message) throws Exception {
    assertThat(run(Map.of(), args.split(" ")))
        .isEqualTo(new Run(2, List.of("junction-server: " + message, "Try 'junction-server --help' for the options.")));
  }

  @Test
  void optionsComeFromTheConfigFileAndTheEnvironmentWhereTheCommandLineLeavesThemOut() throws IOException {
    Path file = Files.writeString(dir.resolve("junction.yaml"), """
        grpc-port: 9001
        http-port: 9002
        cpu-slots: 2
        tracing: off
        model-control-mode: explicit
        load-model: [mlp, image_classifier]
        drain-delay: 1m30s
        payload-log-sample-rate: 0.5
        """);
    Main fromFile = parse("--config", file.toString());
    ServerConfig config = fromFile.config(dir);
    assertThat(config.grpcPort()).isEqualTo(9001);
    assertThat(config.httpPort()).isEqualTo(9002);
    assertThat(config.cpuSlots()).isEqualTo(2);
    assertThat(fromFile.tracing).isFalse();
    assertThat(config.control().startupModels()).containsExactlyInAnyOrder("mlp", "image_classifier");
    assertThat(fromFile.drainDelay).isEqualTo(Duration.ofSeconds(90));
    assertThat(config.payloadLog().policy().sampleRate()).isEqualTo(0.5);

    // The environment over the file, the command line over both; JUNCTION_CONFIG names the file.
    Main layered = parse(Map.of("JUNCTION_CONFIG", file.toString(), "JUNCTION_GRPC_PORT", "7001",
        "JUNCTION_HTTP_PORT", "7002", "JUNCTION_TRACING", "true", "JUNCTION_CPU_SLOTS", ""),
        "--http-port", "6002", "--load-model", "a,b");
    ServerConfig both = layered.config(dir);
    assertThat(both.grpcPort()).isEqualTo(7001);
    assertThat(both.httpPort()).isEqualTo(6002);
    assertThat(both.cpuSlots()).isEqualTo(2);
    assertThat(layered.tracing).isTrue();
    assertThat(both.control().startupModels()).containsExactlyInAnyOrder("a", "b");
  }

  @Test
  void variablesThatStandForNoOptionAreNamed() {
    Main main = new Main();
    CommandLine cli = Main.commandLine(main, Map.of("JUNCTION_CPU_SLOT", "2", "JUNCTION_GRPC_PORT", "9001",
        "JUNCTION_CONFIG", "", "PATH", "/bin"));
    cli.parseArgs();
    assertThat(((ConfigDefaults) cli.getCommandSpec().defaultValueProvider()).variablesOfNoOption())
        .containsExactly("JUNCTION_CPU_SLOT");
  }

  @Test
  void aValueFromTheEnvironmentOrTheFileIsToldWithWhereItCameFrom() throws Exception {
    assertThat(run(Map.of("JUNCTION_CPU_SLOTS", "0")).err()).containsExactly(
        "junction-server: CPU execution slots (--cpu-slots) must be at least 1, got 0",
        "(--cpu-slots was set by JUNCTION_CPU_SLOTS)", "Try 'junction-server --help' for the options.");
    Path absent = dir.resolve("absent.yaml");
    assertThat(run(Map.of("JUNCTION_CONFIG", absent.toString())).err()).first()
        .isEqualTo("junction-server: the config file " + absent + " cannot be read: no such file or directory");
    Path file = Files.writeString(dir.resolve("slow.yaml"), "drain-delay: soon\ndrift: true\n");
    assertThat(run(Map.of(), "--config", file.toString()).err()).containsExactly(
        "junction-server: Invalid value for option '--drain-delay': 'soon' is not a duration such as 500ms, 5s, 2m, "
            + "1h or 1m30s", "(--drain-delay was set by 'drain-delay' in " + file + ")",
        "Try 'junction-server --help' for the options.");
  }

  @Test
  void aResponseCacheTheHeapCannotHoldIsRefused() throws Exception {
    long heap = Runtime.getRuntime().maxMemory();
    Run run = run(Map.of(), "--response-cache-bytes", Long.toString(heap / 2 + 1));
    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.err().get(0)).isEqualTo("junction-server: --response-cache-bytes " + (heap / 2 + 1)
        + " is more than half the JVM's heap limit of " + heap + " bytes: the cache lives on the heap; give the JVM "
        + "more (-Xmx) or the cache less");
    assertThat(run(Map.of(), "--response-cache-bytes", Long.toString(heap / 2)).exit()).isZero();
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "grpc-prot: 1 | sets 'grpc-prot', which is no option of junction-server (its keys are the options of "
          + "'junction-server --help' without their dashes)",
      "config: other.yaml | sets 'config', which is no option of junction-server (its keys are the options of "
          + "'junction-server --help' without their dashes)",
      "grpc-port: [1, 2] | gives 'grpc-port' a list; it takes one value",
      "tls: {cert: a.pem} | sets 'tls', which is no option of junction-server (its keys are the options of "
          + "'junction-server --help' without their dashes)",
      "routes: {file: a.yaml} | gives 'routes' a mapping; it takes a number, a word, true or false",
      "drain-delay: | gives 'drain-delay' no value; it takes a number, a word, true or false",
      "- grpc-port: 1 | must be a mapping of option names to values, such as 'grpc-port: 8001'",
      "grpc-port: 1\\ngrpc-port: 2 | is not valid YAML"})
  void aConfigFileThatIsWrongIsToldWhereAndNothingStarts(String yaml, String message) throws Exception {
    Path file = Files.writeString(dir.resolve("wrong.yaml"), yaml.replace("\\n", "\n"));
    Run run = run(Map.of(), "--config", file.toString());
    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.err().get(0)).startsWith("junction-server: the config file " + file + " " + message);
  }

  /** Every junction-server command line the documentation shows parses: what a user copies is not refused. */
  @Test
  void everyDocumentedCommandLineParses() throws IOException {
    List<Path> docs = new ArrayList<>(List.of(Path.of("..", "README.md"), Path.of("..", "deploy", "README.md")));
    try (var pages = Files.list(Path.of("..", "docs"))) {
      pages.filter(page -> page.toString().endsWith(".md")).forEach(docs::add);
    }
    List<List<String>> commands = DocumentedCommands.of("junction-server.jar", docs);
    assertThat(commands).as("commands found in the documentation").hasSizeGreaterThanOrEqualTo(5);
    Path example = readmeConfigExample();
    for (List<String> args : commands) {
      String[] argv = args.toArray(String[]::new);
      for (int i = 0; i + 1 < argv.length; i++) {
        if (argv[i].equals("--config")) {
          argv[i + 1] = example.toString(); // the file the README shows, which is read as the options are
        }
      }
      CommandLine cli = Main.commandLine(new Main(), Map.of());
      cli.getCommandSpec().parser().collectErrors(true); // told here, with the command, rather than thrown
      assertThat(cli.parseArgs(argv).errors()).as(String.join(" ", args)).isEmpty();
    }
  }

  /** README's example config file (the YAML block whose first line names it junction.yaml), written to a file. */
  private Path readmeConfigExample() throws IOException {
    List<String> readme = Files.readAllLines(Path.of("..", "README.md"));
    int start = readme.indexOf("```yaml") + 1;
    assertThat(readme.get(start)).as("README's example config file").startsWith("# junction.yaml");
    List<String> block = readme.subList(start, readme.size());
    return Files.write(dir.resolve("junction.yaml"), block.subList(0, block.indexOf("```")));
  }

  /** The README's options table lists every option of the command, no other, with the defaults the command has. */
  @Test
  void theReadmeDocumentsEveryOptionWithItsDefault() throws IOException {
    CommandLine cli = Main.commandLine(new Main(), Map.of());
    Map<String, OptionSpec> options = new HashMap<>(); // by every name: the README may give an alias too
    for (OptionSpec o : cli.getCommandSpec().options()) {
      if (!o.usageHelp() && !o.versionHelp()) {
        Arrays.stream(o.names()).forEach(name -> options.put(name, o));
      }
    }
    Pattern option = Pattern.compile("`(--[a-z0-9-]+)(?: ([A-Za-z|\\\\]+))?");
    Set<String> documented = new TreeSet<>();
    for (String row : Files.readAllLines(Path.of("..", "README.md"))) {
      if (!row.startsWith("| `--")) {
        continue;
      }
      String[] cells = row.split("(?<!\\\\)\\|");
      Matcher m = option.matcher(row);
      List<String> named = new ArrayList<>();
      while (m.find()) {
        documented.add(m.group(1));
        named.add(m.group(1));
        assertThat(options).as("README names " + m.group(1)).containsKey(m.group(1));
        if ("BOOL".equals(m.group(2))) {
          assertThat(Main.commandLine(new Main(), Map.of()).parseArgs(m.group(1), "true")
              .matchedOptionValue(m.group(1), false)).as(m.group(1) + " true").isTrue();
        }
      }
      String shownDefault = cells[2].trim();
      String defaultValue = options.get(named.get(0)).defaultValue();
      if (cells[1].split("`--").length == 2 && defaultValue != null) { // one option in the first cell
        assertThat(shownDefault).as("README's default of " + named.get(0)).isEqualTo(defaultValue);
      }
    }
    assertThat(documented).containsAll(options.values().stream().map(OptionSpec::longestName).toList());
  }
}
