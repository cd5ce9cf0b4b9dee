package io.junction.server;

import ch.qos.logback.classic.Level;
import io.junction.server.config.AdminAccess;
import io.junction.server.config.DeviceConfig;
import io.junction.server.config.FeedbackConfig;
import io.junction.server.config.GrpcLimits;
import io.junction.server.config.HttpLimits;
import io.junction.server.config.InboundMemory;
import io.junction.server.config.MetricsConfig;
import io.junction.server.config.ModelControl;
import io.junction.server.config.PayloadLogConfig;
import io.junction.server.config.ServerConfig;
import io.junction.server.config.StatusPageConfig;
import io.junction.server.config.TlsConfig;
import io.junction.server.device.DeviceId;
import io.junction.server.drift.DriftMonitor;
import io.junction.server.payload.PayloadLogPolicy;
import io.junction.server.telemetry.Telemetry;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.bridge.SLF4JBridgeHandler;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/** The {@code junction-server} command. Flag names follow Triton's where Triton has one. */
@Command(name = "junction-server", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
    description = "Serves the models of a model repository over the Open Inference Protocol (gRPC).",
    sortOptions = false)
public final class Main implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(Main.class);

  @Option(names = "--model-repository", paramLabel = "DIR",
      description = "Model repository: DIR/<model>/config.pbtxt, DIR/<model>/<version>/model.onnx. "
          + "Without it, the bundled demo repository is served.")
  Path modelRepository;

  @Option(names = "--grpc-port", defaultValue = "" + ServerConfig.DEFAULT_GRPC_PORT,
      description = "gRPC port (default: ${DEFAULT-VALUE}); 0 picks a free one.")
  int grpcPort;

  @Option(names = "--grpc-address", defaultValue = "0.0.0.0", description = "gRPC bind address (default: ${DEFAULT-VALUE}).")
  String grpcAddress;

  @Option(names = "--http-port", defaultValue = "" + ServerConfig.DEFAULT_HTTP_PORT,
      description = "HTTP port for /health/live and /health/ready (default: ${DEFAULT-VALUE}); -1 disables it.")
  int httpPort;

  @Option(names = "--http-address", defaultValue = "0.0.0.0", description = "HTTP bind address (default: ${DEFAULT-VALUE}).")
  String httpAddress;

  @Option(names = "--log-format", defaultValue = "text", paramLabel = "text|json",
      description = "Log lines as text, or as JSON objects (logback's JSON encoder: time, level, thread, logger, "
          + "message, and trace_id/span_id of the call being served) for log pipelines (default: ${DEFAULT-VALUE}).")
  String logFormat;

  @Option(names = "--log-verbose", defaultValue = "0", paramLabel = "LEVEL",
      description = "0: info (default), 1 or more: debug.")
  int logVerbose;

  @Option(names = "--strict-readiness", defaultValue = "true", arity = "1", paramLabel = "BOOL",
      description = "ServerReady only while every model is ready (default: ${DEFAULT-VALUE}).")
  boolean strictReadiness;

  @Option(names = "--cpu-slots", paramLabel = "N",
      description = "Model executions that may run on the CPU at once, over all models (default: one per core).")
  Integer cpuSlots;

  @Option(names = "--max-queue-size", defaultValue = "" + ServerConfig.DEFAULT_MAX_QUEUE_SIZE, paramLabel = "N",
      description = "Requests that may wait per model and priority level when config.pbtxt sets no max_queue_size; "
          + "more get RESOURCE_EXHAUSTED (default: ${DEFAULT-VALUE}).")
  int maxQueueSize;

  @Option(names = "--default-max-batch-size", defaultValue = "" + ServerConfig.DEFAULT_MAX_BATCH_SIZE, paramLabel = "N",
      description = "max_batch_size for batchable models without config.pbtxt (default: ${DEFAULT-VALUE}).")
  int defaultMaxBatchSize;

  @Option(names = "--status-page", defaultValue = "true", arity = "1", paramLabel = "BOOL",
      description = "Serve the read-only status page (GET / on the HTTP port) and its JSON (GET /v2/status) "
          + "(default: ${DEFAULT-VALUE}).")
  boolean statusPage;

  @Option(names = "--feedback-ledger-size", defaultValue = "500000", paramLabel = "N",
      description = "Routed requests remembered so that feedback (POST /v2/feedback, FeedbackService) can be joined "
          + "to the variant that answered; about 120 bytes each (default: ${DEFAULT-VALUE}).")
  int feedbackLedgerSize;

  @Option(names = "--feedback-ttl", defaultValue = "60m", paramLabel = "DURATION",
      description = "How long after its answer a request's feedback still counts (default: ${DEFAULT-VALUE}).")
  String feedbackTtl;

  @Option(names = "--gpu-slots", defaultValue = "" + DeviceConfig.DEFAULT_GPU_SLOTS, paramLabel = "N",
      description = "Model executions that may run on each GPU at once, over all models on it "
          + "(default: ${DEFAULT-VALUE}).")
  int gpuSlots;

  @Option(names = "--grpc-max-message-size", defaultValue = "" + GrpcLimits.DEFAULT_MAX_INBOUND_MESSAGE_BYTES,
      paramLabel = "BYTES", description = "Largest request message (default: ${DEFAULT-VALUE}).")
  int maxMessageBytes;

  @Option(names = "--grpc-request-read-timeout-secs", defaultValue = "30", paramLabel = "N",
      description = "A ModelInfer call must deliver its whole request within N seconds of its start, or it is answered "
          + "DEADLINE_EXCEEDED and what it sent is freed (stalled senders) (default: ${DEFAULT-VALUE}).")
  long requestReadTimeoutSeconds;

  @Option(names = "--metrics-latency-summaries", defaultValue = "false", paramLabel = "BOOL",
      description = "Also export Triton's latency summaries (nv_inference_*_summary_us: p50, p90, p95, p99 over the "
          + "last minute, per model version), as Triton's --metrics-config summary_latencies=true (default: ${DEFAULT-VALUE}).")
  boolean latencySummaries;

  @Option(names = "--grpc-max-incomplete-bytes-per-connection", paramLabel = "BYTES",
      description = "Bytes that requests not yet received whole may hold on one connection; the stream that passes it "
          + "is ended RESOURCE_EXHAUSTED (default: twice --grpc-max-message-size).")
  Long maxIncompleteBytesPerConnection;

  @Option(names = "--grpc-max-incomplete-bytes", paramLabel = "BYTES",
      description = "The same over all connections (default: a quarter of the heap's limit, at least one connection's).")
  Long maxIncompleteBytes;

  @Option(names = "--grpc-large-request-bytes", defaultValue = "" + InboundMemory.DEFAULT_LARGE_MESSAGE_BYTES,
      paramLabel = "BYTES", description = "ModelInfer requests of at least this size are parsed on their own threads, "
          + "apart from small calls (default: ${DEFAULT-VALUE}).")
  int largeRequestBytes;

  @Option(names = "--grpc-max-typed-contents-bytes", defaultValue = "4194304", paramLabel = "BYTES",
      description = "Typed contents (InferTensorContents) a request may carry in all; more is refused with "
          + "RESOURCE_EXHAUSTED before parsing, since packed values grow up to eight-fold (default: ${DEFAULT-VALUE}).")
  int maxTypedContentsBytes;

  @Option(names = "--model-control-mode", defaultValue = "none", paramLabel = "MODE",
      description = "none: load every model at start, no load/unload API (default); poll: also re-read the "
          + "repository every --repository-poll-secs; explicit: load --load-model models, then the load/unload API decides.")
  String controlMode;

  @Option(names = "--load-model", paramLabel = "NAME",
      description = "In explicit mode, a model to load at start (repeatable; * for all).")
  List<String> loadModels = new ArrayList<>();

  @Option(names = "--repository-poll-secs", defaultValue = "15", paramLabel = "N",
      description = "Seconds between repository polls in poll mode (default: ${DEFAULT-VALUE}).")
  long pollSeconds;

  @Option(names = "--model-memory-budget", paramLabel = "DEVICE=SIZE,...",
      description = "Bytes of models loaded at once per device, e.g. cpu=4g,gpu:0=70g: models load on first request "
          + "and the least recently used idle ones on a device are unloaded to make room there (default: no "
          + "budget).")
  String memoryBudget;

  @Option(names = "--model-footprint", defaultValue = "measured", paramLabel = "measured|files",
      description = "How the memory budget counts a loaded model: measured (growth of resident memory while it "
          + "loaded and warmed up, at least its file sizes) or files (file sizes alone; deterministic, but less "
          + "than a runtime builds from them). Default: ${DEFAULT-VALUE}.")
  String footprint;

  @Option(names = "--pin-model", paramLabel = "NAME",
      description = "With a memory budget: a model loaded at start and never unloaded to make room (repeatable).")
  List<String> pinnedModels = new ArrayList<>();

  @Option(names = "--model-warmup-auto", defaultValue = "false", arity = "1", paramLabel = "BOOL",
      description = "Warm models without model_warmup in config.pbtxt with zeros at their batch sizes before they "
          + "take traffic (default: ${DEFAULT-VALUE}).")
  boolean autoWarmup;

  @Option(names = "--routes", paramLabel = "FILE",
      description = "YAML file of traffic-split routes (A/B, canary); see the README.")
  Path routesFile;

  @Option(names = "--http-request-timeout-secs", defaultValue = "10", paramLabel = "N",
      description = "An HTTP connection must deliver a whole request within N seconds of opening or of its last "
          + "answer, or it is closed (default: ${DEFAULT-VALUE}).")
  long httpRequestTimeoutSeconds;

  @Option(names = "--http-max-request-bytes", defaultValue = "8388608", paramLabel = "BYTES",
      description = "Largest HTTP request (REST inference bodies); larger ones get 413 (default: ${DEFAULT-VALUE}).")
  int httpMaxRequestBytes;

  @Option(names = "--http-max-connections", defaultValue = "128", paramLabel = "N",
      description = "HTTP connections open at once; more are closed at once (default: ${DEFAULT-VALUE}).")
  int httpMaxConnections;

  @Option(names = "--payload-log-dir", paramLabel = "DIR",
      description = "Log inference payloads as gzip-compressed JSON lines in DIR (rotated, size-capped).")
  Path payloadLogDir;

  @Option(names = "--payload-log-otlp", defaultValue = "false", arity = "1", paramLabel = "BOOL",
      description = "Log inference payloads as OpenTelemetry log records (exported with OTEL_LOGS_EXPORTER=otlp).")
  boolean payloadLogOtlp;

  @Option(names = "--payload-log-url", paramLabel = "URL",
      description = "Send inference payloads as CloudEvents over HTTP to URL (KServe's payload logger format).")
  URI payloadLogUrl;

  @Option(names = "--payload-log-sample-rate", defaultValue = "1.0", paramLabel = "R",
      description = "Fraction of calls logged, 0 to 1 (default: ${DEFAULT-VALUE}); per model: payload_log_sample_rate.")
  double payloadLogSampleRate;

  @Option(names = "--payload-log-what", defaultValue = "inputs,outputs,errors", paramLabel = "LIST",
      description = "What is logged (default: ${DEFAULT-VALUE}); per model: payload_log_what.")
  String payloadLogWhat;

  @Option(names = "--payload-log-max-bytes", defaultValue = "4096", paramLabel = "BYTES",
      description = "Larger tensors are logged as a summary: shape, datatype, min, max, mean, SHA-256 "
          + "(default: ${DEFAULT-VALUE}); per model: payload_log_max_bytes.")
  int payloadLogMaxBytes;

  @Option(names = "--payload-log-summary-only", defaultValue = "false", arity = "1", paramLabel = "BOOL",
      description = "Never log tensor values, only summaries; per model: payload_log_summary_only.")
  boolean payloadLogSummaryOnly;

  @Option(names = "--payload-log-exclude", paramLabel = "NAMES",
      description = "Comma-separated tensor names never logged; per model: payload_log_exclude.")
  String payloadLogExclude;

  @Option(names = "--drift", defaultValue = "false", arity = "1", paramLabel = "BOOL",
      description = "Watch input and output drift of versions with a reference (reference.jsonl[.gz] in the version "
          + "directory, or --drift-reference-calls): PSI and KS on /metrics and /v2/models/NAME/drift.")
  boolean drift;

  @Option(names = "--drift-reference-calls", defaultValue = "0", paramLabel = "N",
      description = "Freeze the reference of versions without a reference file from their first N calls (default: "
          + "${DEFAULT-VALUE}, only versions with a file are watched).")
  int driftReferenceCalls;

  @Option(names = "--drift-window", defaultValue = "1000", paramLabel = "N",
      description = "Calls in the sliding window compared with the reference (default: ${DEFAULT-VALUE}).")
  int driftWindow;

  @Option(names = "--drift-top-k", defaultValue = "5", paramLabel = "K",
      description = "Input features per version exposed on /metrics, by PSI (default: ${DEFAULT-VALUE}).")
  int driftTopK;

  @Option(names = "--state-dir", paramLabel = "DIR",
      description = "Directory where run-time decisions (canary promotions and rollbacks) are kept, written "
          + "atomically, so that they survive a restart (default: none; they do not).")
  Path stateDir;

  @Option(names = "--admin-client-identity", paramLabel = "NAME",
      description = "With client certificates (mTLS): a certificate whose subject CN or DNS/URI SAN is NAME is "
          + "the admin credential, as the token is (repeatable).")
  List<String> adminIdentities = new ArrayList<>();

  @Option(names = "--repository-api", defaultValue = "admin", paramLabel = "admin|open",
      description = "Who may call RepositoryModelLoad/Unload (explicit mode): only holders of the admin "
          + "credential, or anyone who reaches the inference port (default: ${DEFAULT-VALUE}).")
  String repositoryApi;

  @Option(names = "--admin-port", paramLabel = "PORT",
      description = "Serve the admin service on a listener of its own instead of the inference port.")
  Integer adminPort;

  @Option(names = "--admin-address", defaultValue = "127.0.0.1", paramLabel = "ADDRESS",
      description = "Interface of the admin listener (default: ${DEFAULT-VALUE}, loopback only).")
  String adminAddress;

  @Option(names = "--admin-token-file", paramLabel = "FILE",
      description = "File holding the bearer token of the admin service (junction.admin.v1); without it the "
          + "admin service is not served.")
  Path adminTokenFile;

  @Option(names = "--grpc-max-connection-age", defaultValue = "30m", paramLabel = "DURATION",
      description = "Connections are asked (GOAWAY) to reconnect after this long, so clients re-resolve and spread "
          + "over replicas that started later, e.g. after a scale-out (default: ${DEFAULT-VALUE}).")
  String maxConnectionAge;

  @Option(names = "--grpc-max-connection-age-grace", defaultValue = "5m", paramLabel = "DURATION",
      description = "Calls still open on a connection at that age get this long to finish (default: ${DEFAULT-VALUE}).")
  String maxConnectionAgeGrace;

  @Option(names = "--drain-delay", defaultValue = "5s", paramLabel = "DURATION",
      description = "On SIGTERM: how long readiness says no while calls are still served, so load balancers stop "
          + "sending (e.g. 5s, 500ms; default: ${DEFAULT-VALUE}).")
  String drainDelay;

  @Option(names = "--exit-timeout", defaultValue = "30s", paramLabel = "DURATION",
      description = "On SIGTERM, after the drain delay: how long accepted calls may take to finish before they are "
          + "cancelled (default: ${DEFAULT-VALUE}).")
  String exitTimeout;

  @Option(names = "--tracing", defaultValue = "true", arity = "1", paramLabel = "BOOL",
      description = "OpenTelemetry tracing, configured by the standard OTEL_* variables (default: ${DEFAULT-VALUE}; "
          + "no exporter until OTEL_TRACES_EXPORTER is set).")
  boolean tracing;

  @Option(names = "--grpc-use-ssl", defaultValue = "false", arity = "1", paramLabel = "BOOL",
      description = "Serve gRPC over TLS (default: ${DEFAULT-VALUE}); needs --grpc-server-cert and --grpc-server-key.")
  boolean useSsl;

  @Option(names = "--grpc-server-cert", paramLabel = "PEM", description = "TLS certificate chain (PEM).")
  Path serverCert;

  @Option(names = "--grpc-server-key", paramLabel = "PEM", description = "TLS private key (PKCS#8 PEM).")
  Path serverKey;

  @Option(names = "--grpc-tls-client-auth", defaultValue = "none", paramLabel = "none|optional|require",
      description = "Client certificates (mTLS): not asked for, checked when presented, or required "
          + "(default: ${DEFAULT-VALUE}); needs --grpc-tls-client-ca.")
  String clientAuth;

  @Option(names = "--grpc-tls-client-ca", paramLabel = "PEM",
      description = "CA bundle (PEM) that client certificates must chain to.")
  Path clientCa;

  @Option(names = "--grpc-tls-reload-secs", defaultValue = "10", paramLabel = "N",
      description = "How often the certificate, key and CA files are checked for changes; changed files are "
          + "used for new connections without a restart (default: ${DEFAULT-VALUE}).")
  long tlsReloadSeconds;

  public static void main(String[] args) {
    CommandLine cli = new CommandLine(new Main());
    // A server that cannot start says why in one line, not with a stack trace.
    cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
      commandLine.getErr().println("junction-server: cannot start: " + e.getMessage());
      log.debug("start-up failure", e);
      return 1;
    });
    System.exit(cli.execute(args));
  }

  @Override
  public Integer call() throws Exception {
    SLF4JBridgeHandler.removeHandlersForRootLogger();
    SLF4JBridgeHandler.install(); // grpc-java and protobuf log through java.util.logging
    if (logVerbose > 0) {
      ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME)).setLevel(Level.DEBUG);
    }
    if (logFormat.equals("json")) {
      jsonLogs();
    } else if (!logFormat.equals("text")) {
      throw new CommandLine.ParameterException(new CommandLine(this), "--log-format must be text or json, got '"
          + logFormat + "'");
    }
    Optional<TlsConfig> tls = tls();
    control(); // checked before anything starts
    Path demo = null;
    Path repository = modelRepository;
    if (repository == null) {
      demo = DemoRepository.extract();
      repository = demo;
      log.info("no --model-repository given: serving the bundled demo repository");
    }
    try {
      return serve(repository, demo, tls);
    } catch (Exception | Error e) {
      if (demo != null) {
        DemoRepository.delete(demo);
      }
      throw e;
    }
  }

  private InboundMemory inboundMemory() {
    InboundMemory defaults = InboundMemory.defaults(maxMessageBytes);
    long perConnection = maxIncompleteBytesPerConnection != null ? maxIncompleteBytesPerConnection
        : defaults.perConnectionBytes();
    long total = maxIncompleteBytes != null ? maxIncompleteBytes : Math.max(perConnection, defaults.totalBytes());
    try {
      return new InboundMemory(perConnection, total, largeRequestBytes);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(new CommandLine(this), e.getMessage());
    }
  }

  private int serve(Path repository, Path demo, Optional<TlsConfig> tls) throws Exception {
    ServerConfig defaults = ServerConfig.defaults(repository);
    ServerConfig config = new ServerConfig(repository, grpcAddress, grpcPort, httpAddress, httpPort,
        cpuSlots == null ? defaults.cpuSlots() : cpuSlots, maxQueueSize,
        defaults.streamWindow(), defaultMaxBatchSize, strictReadiness,
        GrpcLimits.DEFAULTS.withMaxInboundMessageBytes(maxMessageBytes).withMaxTypedContentsBytes(maxTypedContentsBytes)
            .withRequestReadTimeout(Duration.ofSeconds(Math.max(1, requestReadTimeoutSeconds)))
            .withMaxConnectionAge(duration("--grpc-max-connection-age", maxConnectionAge),
                duration("--grpc-max-connection-age-grace", maxConnectionAgeGrace))
            .withInboundMemory(inboundMemory()),
        tls, control(), Optional.ofNullable(routesFile),
        admin(), Optional.ofNullable(stateDir),
        new HttpLimits(Duration.ofSeconds(httpRequestTimeoutSeconds), httpMaxConnections, httpMaxRequestBytes),
        payloadLog(), drift(), new DeviceConfig(gpuSlots, Optional.empty()),
        new FeedbackConfig(feedbackLedgerSize, duration("--feedback-ttl", feedbackTtl)),
        statusPage ? StatusPageConfig.DEFAULTS : StatusPageConfig.OFF, new MetricsConfig(latencySummaries));

    Duration drain = duration("--drain-delay", drainDelay);
    Duration exit = duration("--exit-timeout", exitTimeout);
    CountDownLatch stopped = new CountDownLatch(1);
    JunctionServer server = new JunctionServer(config,
        tracing ? Telemetry.autoconfigured(Map.of()) : Telemetry.disabled());
    Path demoDir = demo;
    Runnable stop = () -> {
      server.drainAndClose(drain, exit);
      if (demoDir != null) {
        DemoRepository.delete(demoDir);
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
      if (demoDir != null) {
        DemoRepository.delete(demoDir);
      }
      stopped.countDown();
    }, "junction-shutdown"));
    server.start();
    stopped.await();
    log.info("Junction exited cleanly");
    return 0;
  }

  /** A duration as people write it: {@code 500ms}, {@code 5s}, {@code 2m}, or a number of seconds. */
  private Duration duration(String option, String text) {
    try {
      String t = text.trim().toLowerCase(Locale.ROOT);
      Duration d;
      if (t.endsWith("ms")) {
        d = Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
      } else if (t.endsWith("s")) {
        d = Duration.ofMillis(Math.round(Double.parseDouble(t.substring(0, t.length() - 1)) * 1000));
      } else if (t.endsWith("m")) {
        d = Duration.ofSeconds(Long.parseLong(t.substring(0, t.length() - 1)) * 60);
      } else {
        d = Duration.ofMillis(Math.round(Double.parseDouble(t) * 1000));
      }
      if (d.isNegative()) {
        throw new NumberFormatException();
      }
      return d;
    } catch (NumberFormatException e) {
      throw new CommandLine.ParameterException(new CommandLine(this),
          option + " must be a non-negative duration such as 500ms, 5s or 1m, got '" + text + "'");
    }
  }

  private ModelControl control() {
    ModelControl.Mode mode;
    try {
      mode = ModelControl.Mode.valueOf(controlMode.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(new CommandLine(this),
          "--model-control-mode must be none, poll or explicit, got '" + controlMode + "'");
    }
    if (pollSeconds < 1) {
      throw new CommandLine.ParameterException(new CommandLine(this), "--repository-poll-secs must be at least 1");
    }
    try {
      Map<DeviceId, Long> budget = memoryBudget == null ? Map.of()
          : ModelControl.parseBudgets(memoryBudget);
      if (!footprint.equals("measured") && !footprint.equals("files")) {
        throw new IllegalArgumentException("--model-footprint must be measured or files, got '" + footprint + "'");
      }
      return new ModelControl(mode, Set.copyOf(loadModels), Duration.ofSeconds(pollSeconds), budget,
          Set.copyOf(pinnedModels), autoWarmup, footprint.equals("measured"));
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(new CommandLine(this), e.getMessage());
    }
  }

  private Optional<DriftMonitor.Settings> drift() {
    try {
      return drift ? Optional.of(new DriftMonitor.Settings(driftReferenceCalls, driftWindow, driftTopK)) : Optional.empty();
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(new CommandLine(this), e.getMessage());
    }
  }

  /** Standard output's appender with logback's JSON encoder: one JSON object per event, MDC included. */
  private static void jsonLogs() {
    ch.qos.logback.classic.Logger root = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME);
    // logback.xml: root -> TRACE_CONTEXT (adds the current span's ids to the MDC) -> STDOUT
    @SuppressWarnings("unchecked")
    var traced = (ch.qos.logback.core.spi.AppenderAttachable<ch.qos.logback.classic.spi.ILoggingEvent>)
        root.getAppender("TRACE_CONTEXT");
    var appender = traced == null ? null
        : (ch.qos.logback.core.ConsoleAppender<ch.qos.logback.classic.spi.ILoggingEvent>) traced.getAppender("STDOUT");
    if (appender == null) {
      LoggerFactory.getLogger(Main.class).warn("--log-format json applies to Junction's logback.xml; the logging "
          + "configuration in use has no TRACE_CONTEXT appender holding STDOUT, so it is left as it is");
      return;
    }
    ch.qos.logback.classic.encoder.JsonEncoder json = new ch.qos.logback.classic.encoder.JsonEncoder();
    json.setContext(root.getLoggerContext());
    json.setWithFormattedMessage(true);
    json.setWithMessage(false);
    json.setWithArguments(false);
    json.setWithContext(false);
    json.setWithSequenceNumber(false);
    json.setWithNanoseconds(false);
    json.start();
    appender.stop();
    appender.setEncoder(json);
    appender.start();
  }

  private PayloadLogConfig payloadLog() {
    try {
      PayloadLogPolicy policy = new PayloadLogPolicy(payloadLogSampleRate, true, true, true, payloadLogMaxBytes,
          payloadLogSummaryOnly, payloadLogExclude == null ? Set.of()
              : Set.of(payloadLogExclude.split(",")).stream().map(String::trim).filter(x -> !x.isEmpty())
                  .collect(Collectors.toSet())).withWhat(payloadLogWhat);
      PayloadLogConfig config = PayloadLogConfig.OFF.withPolicy(policy).withOtlp(payloadLogOtlp);
      if (payloadLogDir != null) {
        config = config.withDir(payloadLogDir);
      }
      return payloadLogUrl == null ? config : config.withCloudEvents(payloadLogUrl);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(new CommandLine(this), e.getMessage());
    }
  }

  private AdminAccess admin() throws IOException {
    if (!repositoryApi.equals("admin") && !repositoryApi.equals("open")) {
      throw new CommandLine.ParameterException(new CommandLine(this),
          "--repository-api must be admin or open, got '" + repositoryApi + "'");
    }
    try {
      AdminAccess access = new AdminAccess(
          adminTokenFile == null ? Optional.empty() : Optional.of(Files.readString(adminTokenFile).trim()),
          Set.copyOf(adminIdentities), repositoryApi.equals("open"), Optional.empty());
      return adminPort == null ? access : access.withListener(adminAddress, adminPort);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(new CommandLine(this), e.getMessage());
    }
  }

  private Optional<TlsConfig> tls() {
    if (!useSsl) {
      if (serverCert != null || serverKey != null) {
        throw new CommandLine.ParameterException(new CommandLine(this),
            "--grpc-server-cert and --grpc-server-key need --grpc-use-ssl true");
      }
      return Optional.empty();
    }
    if (serverCert == null || serverKey == null) {
      throw new CommandLine.ParameterException(new CommandLine(this),
          "--grpc-use-ssl true needs --grpc-server-cert and --grpc-server-key");
    }
    TlsConfig.ClientAuth auth;
    try {
      auth = TlsConfig.ClientAuth.valueOf(clientAuth.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(new CommandLine(this),
          "--grpc-tls-client-auth must be none, optional or require, got '" + clientAuth + "'");
    }
    try {
      return Optional.of(new TlsConfig(serverCert, serverKey, auth, Optional.ofNullable(clientCa),
          Duration.ofSeconds(tlsReloadSeconds)));
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(new CommandLine(this), e.getMessage());
    }
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"junction-server " + JunctionServer.version()};
    }
  }
}
