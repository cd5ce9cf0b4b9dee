package io.junction.server;

import io.junction.server.cli.AdminOptions;
import io.junction.server.cli.ConfigDefaults;
import io.junction.server.cli.DriftOptions;
import io.junction.server.cli.DurationConverter;
import io.junction.server.cli.FeedbackOptions;
import io.junction.server.cli.GrpcLimitOptions;
import io.junction.server.cli.HttpLimitOptions;
import io.junction.server.cli.LogOptions;
import io.junction.server.cli.ModelControlOptions;
import io.junction.server.cli.PayloadLogOptions;
import io.junction.server.cli.SchedulingOptions;
import io.junction.server.cli.TlsOptions;
import io.junction.server.config.MetricsConfig;
import io.junction.server.config.ServerConfig;
import io.junction.server.config.StatusPageConfig;
import io.junction.server.errors.FileErrors;
import io.junction.server.telemetry.Telemetry;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.bridge.SLF4JBridgeHandler;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine;

/**
 * The {@code junction-server} command. Flag names follow Triton's where Triton has one; the options of each part
 * of the server live in {@code io.junction.server.cli}, one class a part, and build its config record.
 */
@Command(name = "junction-server", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
    description = "Serves the models of a model repository over the Open Inference Protocol (gRPC and REST).",
    sortOptions = false, abbreviateSynopsis = true, optionListHeading = "%nServing:%n",
    footer = {"", "Every option can also be set in the environment (--grpc-port as JUNCTION_GRPC_PORT) or in the "
        + "--config file (grpc-port: 8001); the command line wins over the environment, the environment over the "
        + "file. The defaults shown include what those set."})
public final class Main implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(Main.class);

  @Spec
  CommandSpec spec;

  @Option(names = ConfigDefaults.FILE_OPTION, paramLabel = "FILE",
      description = "YAML file of option values: its keys are the options without their dashes (grpc-port: 9001, "
          + "load-model: [a, b]). Each option may also come from the environment (JUNCTION_GRPC_PORT=9001); the "
          + "command line wins over the environment, the environment over the file (default: JUNCTION_CONFIG).")
  Path configFile;

  @Option(names = {"--model-repository", "--model-store"}, paramLabel = "DIR",
      description = "Model repository: DIR/<model>/config.pbtxt, DIR/<model>/<version>/model.onnx (--model-store, "
          + "as Triton also calls it). Without it, the bundled demo repository is served.")
  Path modelRepository;

  @Option(names = "--grpc-port", defaultValue = "" + ServerConfig.DEFAULT_GRPC_PORT, paramLabel = "N",
      description = "gRPC port (default: ${DEFAULT-VALUE}); 0 picks a free one.")
  int grpcPort;

  @Option(names = "--grpc-address", defaultValue = "0.0.0.0", paramLabel = "ADDRESS",
      description = "gRPC bind address (default: ${DEFAULT-VALUE}).")
  String grpcAddress;

  @Option(names = "--http-port", defaultValue = "" + ServerConfig.DEFAULT_HTTP_PORT, paramLabel = "N",
      description = "HTTP port of the REST API (/v2/...), health (/health/live, /health/ready), /metrics and the "
          + "status page (default: ${DEFAULT-VALUE}); 0 picks a free one, -1 disables it.")
  int httpPort;

  @Option(names = "--http-address", defaultValue = "0.0.0.0", paramLabel = "ADDRESS",
      description = "HTTP bind address (default: ${DEFAULT-VALUE}).")
  String httpAddress;

  @Option(names = "--strict-readiness", defaultValue = "true", arity = "0..1", fallbackValue = "true",
      paramLabel = "BOOL", description = "ServerReady only while every model is ready (default: ${DEFAULT-VALUE}).")
  boolean strictReadiness;

  @Option(names = "--status-page", defaultValue = "true", arity = "0..1", fallbackValue = "true",
      paramLabel = "BOOL", description = "Serve the read-only status page (GET / on the HTTP port) and its JSON "
          + "(GET /v2/status) (default: ${DEFAULT-VALUE}).")
  boolean statusPage;

  @Option(names = "--metrics-latency-summaries", defaultValue = "false", arity = "0..1", fallbackValue = "true",
      paramLabel = "BOOL", description = "Also export Triton's latency summaries (nv_inference_*_summary_us: p50, "
          + "p90, p95, p99 over the last minute, per model version), as Triton's --metrics-config "
          + "summary_latencies=true (default: ${DEFAULT-VALUE}).")
  boolean latencySummaries;

  @Option(names = "--response-cache-bytes", defaultValue = "0", paramLabel = "BYTES",
      description = "Size of the response cache shared by the models whose config.pbtxt sets response_cache { enable: "
          + "true }: a request identical to one answered before (model version, inputs, outputs asked for) is answered "
          + "from it without running the model, as Triton's --cache-config local,size=BYTES; 0 turns it off "
          + "(default: ${DEFAULT-VALUE}).")
  long responseCacheBytes;

  @Option(names = "--routes", paramLabel = "FILE",
      description = "YAML file of traffic-split routes (A/B, canary, shadow), re-read when it changes; see the README.")
  Path routesFile;

  @Option(names = "--state-dir", paramLabel = "DIR",
      description = "Directory where run-time decisions (canary promotions and rollbacks) are kept, written "
          + "atomically, so that they survive a restart (default: none; they do not).")
  Path stateDir;

  @Option(names = "--tracing", defaultValue = "true", arity = "0..1", fallbackValue = "true", paramLabel = "BOOL",
      description = "OpenTelemetry tracing, configured by the standard OTEL_* variables (default: ${DEFAULT-VALUE}; "
          + "no exporter until OTEL_TRACES_EXPORTER is set).")
  boolean tracing;

  @Option(names = "--drain-delay", defaultValue = "5s", paramLabel = "DURATION", converter = DurationConverter.class,
      description = "On SIGTERM: how long readiness says no while calls are still served, so load balancers stop "
          + "sending (e.g. 5s, 500ms; default: ${DEFAULT-VALUE}).")
  Duration drainDelay;

  @Option(names = "--exit-timeout", defaultValue = "30s", paramLabel = "DURATION", converter = DurationConverter.class,
      description = "On SIGTERM, after the drain delay: how long accepted calls may take to finish before they are "
          + "cancelled (default: ${DEFAULT-VALUE}).")
  Duration exitTimeout;

  @ArgGroup(validate = false, heading = "%nLogging:%n")
  LogOptions logging = new LogOptions();

  @ArgGroup(validate = false, heading = "%nScheduling:%n")
  SchedulingOptions scheduling = new SchedulingOptions();

  @ArgGroup(validate = false, heading = "%nModel control:%n")
  ModelControlOptions modelControl = new ModelControlOptions();

  @ArgGroup(validate = false, heading = "%ngRPC limits:%n")
  GrpcLimitOptions grpcLimits = new GrpcLimitOptions();

  @ArgGroup(validate = false, heading = "%nTLS:%n")
  TlsOptions tls = new TlsOptions();

  @ArgGroup(validate = false, heading = "%nHTTP limits:%n")
  HttpLimitOptions httpLimits = new HttpLimitOptions();

  @ArgGroup(validate = false, heading = "%nAdmin:%n")
  AdminOptions admin = new AdminOptions();

  @ArgGroup(validate = false, heading = "%nPayload logging:%n")
  PayloadLogOptions payloadLog = new PayloadLogOptions();

  @ArgGroup(validate = false, heading = "%nDrift:%n")
  DriftOptions drift = new DriftOptions();

  @ArgGroup(validate = false, heading = "%nFeedback:%n")
  FeedbackOptions feedback = new FeedbackOptions();

  public static void main(String[] args) {
    System.exit(commandLine(new Main(), System.getenv()).execute(args));
  }

  /**
   * The command line as {@code main} runs it: options the arguments leave out taken from {@code environment} and
   * the config file, enum values in any case, errors in one line each.
   */
  static CommandLine commandLine(Main main, Map<String, String> environment) {
    CommandLine cli = new CommandLine(main).setCaseInsensitiveEnumValuesAllowed(true);
    ConfigDefaults defaults = new ConfigDefaults(cli.getCommandSpec(), environment,
        () -> Optional.ofNullable(main.configFile));
    cli.setDefaultValueProvider(defaults);
    // A mistyped option says what was wrong, not the usage of sixty options after it.
    cli.setParameterExceptionHandler((e, args) -> {
      CommandLine command = e.getCommandLine();
      command.getErr().println("junction-server: " + e.getMessage());
      String sources = defaults.sourcesNamedIn(e.getMessage());
      if (!sources.isEmpty()) {
        command.getErr().println("(" + sources + ")");
      }
      command.getErr().println("Try 'junction-server --help' for the options.");
      return command.getCommandSpec().exitCodeOnInvalidInput();
    });
    // A server that cannot start says why in one line, not with a stack trace.
    cli.setExecutionExceptionHandler((e, command, parseResult) -> {
      command.getErr().println("junction-server: cannot start: "
          + (e instanceof IOException io ? FileErrors.describe(io) : e.getMessage()));
      log.debug("start-up failure", e);
      return 1;
    });
    return cli;
  }

  @Override
  public Integer call() throws Exception {
    SLF4JBridgeHandler.removeHandlersForRootLogger();
    SLF4JBridgeHandler.install(); // grpc-java and protobuf log through java.util.logging
    logging.apply();
    if (spec.defaultValueProvider() instanceof ConfigDefaults defaults) {
      for (String variable : defaults.variablesOfNoOption()) {
        log.warn("{} is set, but junction-server has no option it stands for; it is ignored", variable);
      }
    }
    Path demo = modelRepository == null ? DemoRepository.extract() : null;
    try {
      ServerConfig config = config(demo == null ? modelRepository : demo);
      if (demo != null) {
        log.info("no --model-repository given: serving the bundled demo repository");
      }
      return serve(config, demo);
    } catch (Exception | Error e) {
      if (demo != null) {
        DemoRepository.delete(demo);
      }
      throw e;
    }
  }

  /**
   * The server's configuration from the options, every value checked.
   *
   * @throws ParameterException naming the option whose value is wrong
   */
  ServerConfig config(Path repository) {
    try {
      checkResponseCacheFitsTheHeap(Runtime.getRuntime().maxMemory());
      ServerConfig defaults = ServerConfig.defaults(repository);
      return new ServerConfig(repository, grpcAddress, grpcPort, httpAddress, httpPort,
          scheduling.cpuSlots().orElse(defaults.cpuSlots()), scheduling.maxQueueSize(), defaults.streamWindow(),
          scheduling.defaultMaxBatchSize(), strictReadiness, grpcLimits.limits(), tls.tls(), modelControl.control(),
          Optional.ofNullable(routesFile), admin.access(), Optional.ofNullable(stateDir), httpLimits.limits(),
          payloadLog.config(), drift.settings(), scheduling.devices(), feedback.feedback(),
          statusPage ? StatusPageConfig.DEFAULTS : StatusPageConfig.OFF, new MetricsConfig(latencySummaries), responseCacheBytes);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage(), e);
    }
  }

  /**
   * The response cache keeps its entries on the heap: one that may fill more than half of it would take the server
   * down with an OutOfMemoryError on a busy day instead of refusing at start.
   */
  private void checkResponseCacheFitsTheHeap(long heapLimit) {
    if (responseCacheBytes > heapLimit / 2) {
      throw new IllegalArgumentException("--response-cache-bytes " + responseCacheBytes + " is more than half the "
          + "JVM's heap limit of " + heapLimit + " bytes: the cache lives on the heap; give the JVM more (-Xmx) or "
          + "the cache less");
    }
  }

  private int serve(ServerConfig config, Path demo) throws Exception {
    CountDownLatch stopped = new CountDownLatch(1);
    JunctionServer server = new JunctionServer(config,
        tracing ? Telemetry.autoconfigured(Map.of()) : Telemetry.disabled());
    Runnable stop = () -> {
      server.drainAndClose(drainDelay, exitTimeout);
      if (demo != null) {
        DemoRepository.delete(demo);
      }
      stopped.countDown();
    };
    // SIGTERM and SIGINT drain and end the process with 0; a shutdown hook would end it with 143 even
    // after a clean drain. The hook stays for every other way the JVM may end.
    for (String signal : new String[] {"TERM", "INT"}) {
      try {
        sun.misc.Signal.handle(new sun.misc.Signal(signal), s -> new Thread(stop, "junction-drain").start());
      } catch (IllegalArgumentException e) { // the JVM keeps this signal (e.g. -Xrs): the shutdown hook stops us
        log.warn("cannot handle SIG{} ({}); it will stop the server without a drain", signal, e.getMessage());
      }
    }
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      server.close(); // does nothing after a drain
      if (demo != null) {
        DemoRepository.delete(demo);
      }
      stopped.countDown();
    }, "junction-shutdown"));
    server.start();
    stopped.await();
    log.info("Junction exited cleanly");
    return 0;
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"junction-server " + JunctionServer.version()};
    }
  }
}
