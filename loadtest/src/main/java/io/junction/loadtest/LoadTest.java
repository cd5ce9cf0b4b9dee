package io.junction.loadtest;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.grpc.Channel;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.junction.loadtest.check.CheckCommand;
import io.junction.loadtest.profile.ProfileCommand;
import io.junction.proto.inference.GRPCInferenceServiceGrpc;
import io.junction.proto.inference.ModelInferRequest;
import io.junction.proto.inference.ModelMetadataRequest;
import io.junction.proto.inference.ModelMetadataResponse;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.function.LongFunction;
import java.util.logging.Level;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine;

/**
 * {@code junction-loadtest}: calls ModelInfer (or sends requests over ModelStreamInfer) on a model or route with
 * ghz's options and report format.
 * Inputs are generated from the model's metadata.
 */
@Command(name = "junction-loadtest", mixinStandardHelpOptions = true, sortOptions = false,
    subcommands = {CheckCommand.class, ProfileCommand.class},
    description = "Load-tests an Open Inference Protocol server (Junction, Triton, KServe) over gRPC.")
public final class LoadTest implements Callable<Integer> {
  @Spec CommandSpec spec;

  @CommandLine.Mixin ServerOptions connection;

  @Option(names = "--config", paramLabel = "FILE",
      description = "A ghz configuration file (JSON): its settings apply where the command line gives none.")
  Path config;

  @Option(names = "--call", description = "ghz's method name: inference.GRPCInferenceService/ModelInfer (the default), or "
      + "inference.GRPCInferenceService/ModelStreamInfer to send the requests over streams, as perf_analyzer's --streaming "
      + "does: each caller keeps one stream open and sends its next request when the previous one is answered (an open "
      + "loop, one stream per connection); each request counts as a call, and -t bounds each request, not the stream.")
  String call;

  @Option(names = "--model", description = "Model or route name (default: the model_name of --data).")
  String model;

  @Option(names = "--model-version", defaultValue = "", description = "Version (default: the newest).")
  String version;

  @Option(names = {"-c", "--concurrency"}, defaultValue = "50", description = "Concurrent callers (default: ${DEFAULT-VALUE}).")
  int concurrency;

  @Option(names = {"-n", "--total"}, defaultValue = "0", description = "Requests to send (default: 200 unless -z).")
  long total;

  @Option(names = {"-z", "--duration"}, description = "Run for this long, e.g. 10s, 2m (overrides -n).",
      converter = DurationText.class)
  String duration;

  @Option(names = {"-x", "--max-duration"}, paramLabel = "DURATION",
      description = "With -n: stop at this duration if the calls are not all done (ghz's -x).",
      converter = DurationText.class)
  String maxDuration;

  @Option(names = {"-r", "--rps"}, defaultValue = "0", description = "Requests per second on a fixed timeline (open "
      + "loop). Unlike ghz, whose workers pace themselves and time each call from when it is sent, each call is timed "
      + "from its scheduled start, so a server stall shows in the percentiles instead of slowing the load.")
  double rps;

  @Option(names = "--load-schedule", defaultValue = "const",
      description = "const, step or line: how the rate changes over the run (ghz's; default: ${DEFAULT-VALUE}).")
  String loadSchedule;

  @Option(names = "--load-start", defaultValue = "0", description = "Starting rate for step/line (default: --rps).")
  double loadStart;

  @Option(names = "--load-end", defaultValue = "0", description = "Rate not to go beyond (0: none).")
  double loadEnd;

  @Option(names = "--load-step", defaultValue = "0", description = "Rate change per step (step) or per second (line).")
  double loadStep;

  @Option(names = "--load-step-duration", defaultValue = "1s", description = "How long each step lasts (step).",
      converter = DurationText.class)
  String loadStepDuration;

  @Option(names = "--load-max-duration", description = "How long a step or line schedule changes the rate; after it the "
      + "rate holds where it got to until -z or -n ends the run (ghz's meaning).", converter = DurationText.class)
  String loadMaxDuration;

  @Option(names = "--concurrency-schedule", defaultValue = "const",
      description = "const, step or line: how the number of callers changes (ghz's; default: ${DEFAULT-VALUE}).")
  String concurrencySchedule;

  @Option(names = "--concurrency-start", defaultValue = "0", description = "Starting callers for step/line (default: -c).")
  double concurrencyStart;

  @Option(names = "--concurrency-end", defaultValue = "0", description = "Callers not to go beyond (0: none).")
  double concurrencyEnd;

  @Option(names = "--concurrency-step", defaultValue = "0", description = "Callers added per step (step) or per second (line).")
  double concurrencyStep;

  @Option(names = "--concurrency-step-duration", defaultValue = "1s", description = "How long each step lasts (step).",
      converter = DurationText.class)
  String concurrencyStepDuration;

  @Option(names = "--concurrency-max-duration", description = "How long a step or line concurrency schedule changes the "
      + "callers; after it they hold where they got to until -z or -n ends the run (ghz's meaning).",
      converter = DurationText.class)
  String concurrencyMaxDuration;

  @Option(names = "--scenario", description = "spike: --spike-base rps, then --spike-peak rps, then back, each "
      + "phase --spike-phase long (the recovery phase twice); reports the error rate and how long p99 took to recover.")
  String scenario;

  @Option(names = "--spike-base", defaultValue = "100", description = "Rate before and after the spike (default: ${DEFAULT-VALUE}).")
  double spikeBase;

  @Option(names = "--spike-peak", defaultValue = "10000", description = "Rate during the spike (default: ${DEFAULT-VALUE}).")
  double spikePeak;

  @Option(names = "--spike-phase", defaultValue = "5s", description = "Length of the base and spike phases (default: ${DEFAULT-VALUE}).",
      converter = DurationText.class)
  String spikePhase;

  @Option(names = {"-t", "--timeout"}, defaultValue = "20s",
      description = "Per-request timeout, 0 for none (default: ${DEFAULT-VALUE}).", converter = DurationText.class)
  String timeout;

  @Option(names = {"-m", "--metadata"}, description = "Request metadata as JSON, e.g. '{\"x-routing-key\":\"u1\"}'.")
  String metadata;

  @Option(names = "--trace-calls", paramLabel = "FRACTION",
      description = "Give every call a new W3C trace context (a traceparent header), as a traced client does, with "
          + "FRACTION of them (0 to 1) marked sampled; a server with a parent-based sampler traces those. Default: "
          + "no trace context.")
  Double traceCalls;

  @Option(names = {"-d", "--data"},
      description = "The request as JSON (ModelInferRequest, as ghz takes it), @FILE to read it from a file, or @ "
          + "to read it from standard input; without it, random inputs are generated from the model's metadata.")
  String data;

  @Option(names = {"-D", "--data-file"}, paramLabel = "FILE", description = "The request as JSON, from a file (ghz's -D).")
  Path dataFile;

  @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "Write the report to this file instead of standard output.")
  Path output;

  @Option(names = "--batch", defaultValue = "1", description = "Rows per request (the variable batch dimension).")
  int batch;

  @Option(names = "--skipFirst", defaultValue = "0", paramLabel = "N",
      description = "Leave the first N answers out of the report (ghz's; they are still sent).")
  long skipFirst;

  @Option(names = "--count-errors", description = "Count failed calls' latencies in the latency figures too (ghz's; "
      + "by default only successful calls' are, while failures are counted by status and message).")
  boolean countErrors;

  @Option(names = "--warmup", defaultValue = "0s", paramLabel = "DURATION",
      description = "Before the clock starts, send the same load this long and discard it, so the JIT of both "
          + "sides and the connections are warm (e.g. 5s; default: ${DEFAULT-VALUE}). Warm-up calls count in the "
          + "server's statistics, not in the report.", converter = DurationText.class)
  String warmup;

  @Option(names = "--connections", defaultValue = "1",
      description = "Connections to spread the calls over, round robin (default: ${DEFAULT-VALUE}).")
  int connections;

  @Option(names = {"-O", "--format"}, defaultValue = "summary", description = "summary, json, pretty, csv, influx-summary, influx-details, prometheus (ghz's formats) or html "
          + "(one self-contained page with charts; default: ${DEFAULT-VALUE}).")
  String format;

  /** Held, so that the level set on it stays (java.util.logging keeps its loggers weakly). */
  private static final java.util.logging.Logger GRPC_LOG = java.util.logging.Logger.getLogger("io.grpc");

  public static void main(String[] args) {
    // grpc-java's warnings (a host name that does not resolve, with its stack trace) say what the run's one-line error says
    GRPC_LOG.setLevel(Level.SEVERE);
    System.exit(commandLine().execute(args));
  }

  /** The command, with picocli's own @file expansion off: {@code --data @FILE} means what ghz means. */
  public static CommandLine commandLine() {
    return new CommandLine(new LoadTest()).setExpandAtFiles(false).setExecutionExceptionHandler(LoadTest::oneLine);
  }

  /**
   * A failure of the run is one line saying what went wrong (bad data, no server, a refused call), not a
   * stack trace; exit status 1, as ghz's.
   */
  private static int oneLine(Exception e, CommandLine cli, CommandLine.ParseResult parsed) {
    String what;
    if (e instanceof StatusRuntimeException s) {
      boolean unreached = s.getStatus().getCode() == Status.Code.UNAVAILABLE && s.getStatus().getCause() != null;
      what = unreached ? "cannot reach the server: " + GhzNames.error(s.getStatus()) + " (" + s.getStatus().getCause().getMessage()
          + ")" : "the server answered " + GhzNames.error(s.getStatus());
    } else if (e instanceof JsonParseException || e instanceof InvalidProtocolBufferException) {
      what = "the data is not a valid ModelInferRequest in JSON: " + (e.getCause() != null && e.getMessage() == null
          ? e.getCause().getMessage() : e.getMessage());
    } else if (e instanceof IOException) {
      what = "cannot read " + e.getMessage();
    } else if (e instanceof IllegalArgumentException && e.getMessage() != null) {
      what = e.getMessage(); // a value read after the command line (a ghz config file's): the message says which
    } else {
      what = e.toString();
    }
    cli.getErr().println(cli.getCommandSpec().qualifiedName() + ": " + what);
    cli.getErr().flush();
    return 1;
  }

  /** The deadline of the calls before the load (metadata): -t is the load's, and -t 0 means none. */
  private static final long PREFLIGHT_SECONDS = 30;


  @Override
  public Integer call() throws Exception {
    if (config != null) {
      GhzConfig.apply(config, this, spec);
    }
    String target = connection.target(spec.commandLine());
    InferMethod method = call == null ? InferMethod.MODEL_INFER : InferMethod.named(call).orElseThrow(() ->
        new CommandLine.ParameterException(spec.commandLine(), "--call " + call + ": only "
            + "inference.GRPCInferenceService/ModelInfer and inference.GRPCInferenceService/ModelStreamInfer are load-tested"));
    if (dataFile != null) {
      if (data != null) {
        throw new CommandLine.ParameterException(spec.commandLine(), "give the request once: -d or -D, not both");
      }
      data = "@" + dataFile;
    }
    if (model == null && data == null) {
      throw new CommandLine.ParameterException(spec.commandLine(), "give --model NAME, or a request with model_name in -d/-D");
    }
    requireAtLeast("-c/--concurrency", concurrency, 1, "");
    requireAtLeast("-n/--total", total, 0, " (0: 200, or as many as -z allows)");
    requireAtLeast("-r/--rps", rps, 0, " (0: as fast as the callers go)");
    requireAtLeast("--batch", batch, 1, "");
    requireAtLeast("--skipFirst", skipFirst, 0, "");
    requireAtLeast("--connections", connections, 1, "");
    if (!ReportFormats.ALL.contains(format)) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--format must be one of " + ReportFormats.names());
    }
    TraceContextInterceptor traceContexts = traceCalls == null ? null : traceContexts();
    long timeoutNanos = parseDuration(timeout).toNanos();
    long durationNanos = duration == null ? 0 : parseDuration(duration).toNanos();
    boolean spike = "spike".equals(scenario);
    if (scenario != null && !spike) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--scenario must be spike, got '" + scenario + "'");
    }
    boolean scheduled = spike || rps > 0 || !loadSchedule.equals("const");
    LoadSchedule schedule = spike ? LoadSchedule.spike(spikeBase, spikePeak, parseDuration(spikePhase).toNanos() / 1e9)
        : scheduled ? new LoadSchedule(loadSchedule, loadStart > 0 ? loadStart : rps, loadEnd, loadStep,
            parseDuration(loadStepDuration).toNanos() / 1e9)
            .withMaxRamp(loadMaxDuration == null ? 0 : parseDuration(loadMaxDuration).toNanos() / 1e9) : null;
    if (spike) {
      durationNanos = (long) (schedule.totalSeconds() * 1e9);
    }
    long calls = durationNanos > 0 || "spike".equals(scenario) ? 0 : (total > 0 ? total : 200);
    if (maxDuration != null && durationNanos == 0) {
      durationNanos = parseDuration(maxDuration).toNanos(); // -n calls, but no longer than this
    }
    List<ManagedChannel> channels = new ArrayList<>();
    for (int i = 0; i < connections; i++) {
      // Answers are handled on the transport's own thread: recording a latency costs less than the hand-off
      // to an executor thread would, and every microsecond spent here lowers the rate one core can drive.
      channels.add(connection.open(spec.commandLine(), true));
    }
    ManagedChannel channel = channels.get(0);
    try {
      // The pre-flight metadata call has its own deadline: -t is the load's, and -t 0 means none.
      var blocking = GRPCInferenceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(PREFLIGHT_SECONDS, TimeUnit.SECONDS);
      List<ModelInferRequest> requests = new ArrayList<>();
      LongFunction<ModelInferRequest> source = null;
      if (data != null) {
        String json = data.equals("@") ? new String(System.in.readAllBytes(), StandardCharsets.UTF_8)
            : data.startsWith("@") ? Files.readString(Path.of(data.substring(1))) : data;
        if (RequestTemplate.isTemplate(json)) {
          // ghz's templates: each call renders its own request (rendered before it is read as JSON, as in ghz).
          try {
            source = RequestTemplate.of(json, model);
          } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "-d/-D: " + e.getMessage());
          }
          ModelInferRequest first = source.apply(0);
          if (first.getModelName().isEmpty()) {
            throw new CommandLine.ParameterException(spec.commandLine(), "a request in -d/-D has no model_name; give --model");
          }
          model = first.getModelName();
          json = "[]";
        }
        // One request, or (as ghz takes it) a JSON array of requests sent in turn.
        JsonElement parsed = JsonParser.parseString(json);
        List<JsonElement> items = parsed.isJsonArray() ? parsed.getAsJsonArray().asList()
            : List.of(parsed);
        if (items.isEmpty() && source == null) {
          throw new CommandLine.ParameterException(spec.commandLine(), "-d/-D holds an empty array: no request to send");
        }
        for (JsonElement item : items) {
          ModelInferRequest.Builder b = ModelInferRequest.newBuilder();
          JsonFormat.parser().merge(item.toString(), b);
          if (b.getModelName().isEmpty()) {
            if (model == null) {
              throw new CommandLine.ParameterException(spec.commandLine(), "a request in -d/-D has no model_name; give --model");
            }
            b.setModelName(model);
          } else if (model == null) {
            model = b.getModelName();
          }
          requests.add(b.build());
        }
      } else {
        ModelMetadataResponse meta = blocking.modelMetadata(
            ModelMetadataRequest.newBuilder().setName(model).setVersion(version).build());
        requests.add(RequestFactory.fromMetadata(meta, model, version, batch, 42));
      }
      List<ClientInterceptor> interceptors = new ArrayList<>();
      if (metadata != null) {
        interceptors.add(MetadataUtils.newAttachHeadersInterceptor(parseMetadata(metadata)));
      }
      if (traceContexts != null) {
        interceptors.add(traceContexts);
      }
      List<Channel> withMetadata = new ArrayList<>();
      for (ManagedChannel c : channels) {
        withMetadata.add(ClientInterceptors.intercept(c, interceptors));
      }
      LoadSchedule callers = new LoadSchedule(concurrencySchedule, concurrencyStart > 0 ? concurrencyStart : concurrency,
          concurrencyEnd, concurrencyStep, parseDuration(concurrencyStepDuration).toNanos() / 1e9)
          .withMaxRamp(concurrencyMaxDuration == null ? 0 : parseDuration(concurrencyMaxDuration).toNanos() / 1e9);
      long warmupNanos = parseDuration(warmup).toNanos();
      if (warmupNanos > 0) {
        try (Calls warmingCalls = method.open(withMetadata, timeoutNanos)) {
          Runner warming = source != null ? new Runner(warmingCalls, source, 0, false)
              : new Runner(warmingCalls, requests, 0, false);
          if (scheduled) {
            warming.openLoop(new LoadSchedule("const", schedule.rateAt(0), 0, 0, 1), 0, warmupNanos);
          } else {
            warming.closedLoop(callers, 0, warmupNanos);
          }
        }
      }
      try (Calls warmingCalls = method.open(withMetadata, TimeUnit.SECONDS.toNanos(PREFLIGHT_SECONDS))) {
        warmTheClient(warmingCalls, source != null ? source.apply(0) : requests.get(0), concurrency);
      }
      Runner.Result result;
      try (Calls measured = method.open(withMetadata, timeoutNanos)) {
        Runner runner = source != null ? new Runner(measured, source, skipFirst, countErrors)
            : new Runner(measured, requests, skipFirst, countErrors);
        if (ReportFormats.WITH_DETAILS.contains(format)) {
          runner.keepDetails(); // ghz lists every call in these formats
        }
        result = scheduled ? runner.openLoop(schedule, calls, durationNanos) : runner.closedLoop(callers, calls, durationNanos);
      }
      Report report = Report.of(result.latencies(), result.totalNanos(), result.codes(), result.errors());
      result.details().forEach(d -> {
        Map<String, Object> detail = new LinkedHashMap<>();
        detail.put("timestamp", d.timestamp().toString());
        detail.put("latency", d.latencyNanos());
        detail.put("error", d.error());
        detail.put("status", d.status());
        report.details.add(detail);
      });
      if (durationNanos > 0 && (calls == 0 || report.count + skipFirst < calls)) {
        report.endReason = "timeout"; // ghz's word for a run that ended at its duration
      }
      report.pacingErrorNs = result.pacingErrorNs();
      report.pacingErrorP99Ns = result.pacingErrorP99Ns();
      report.variants.putAll(result.variants());
      result.answeredPerSecond().forEach((second, h) -> {
        Map<String, Object> point = new LinkedHashMap<>();
        point.put("second", second);
        point.put("count", h.getTotalCount());
        point.put("p50", h.getValueAtPercentile(50));
        point.put("p99", h.getValueAtPercentile(99));
        report.series.add(point);
      });
      result.startsPerSecond().forEach((second, n) -> {
        Map<String, Object> point = new LinkedHashMap<>();
        point.put("second", second);
        point.put("started", n);
        if (result.callersPerSecond().containsKey(second)) {
          point.put("callers", result.callersPerSecond().get(second));
        }
        report.timeline.add(point);
      });
      // ghz's option keys and types first (host, call, total, timeout in ns, ...), then Junction's own.
      report.options.put("host", target);
      report.options.put("call", method.reportName());
      report.options.put("insecure", connection.insecure);
      report.options.put("skipTLS", connection.skipTls);
      report.options.put("total", calls);
      report.options.put("timeout", timeoutNanos);
      report.options.put("skipFirst", skipFirst);
      report.options.put("count-errors", countErrors);
      report.options.put("load-schedule", loadSchedule);
      report.options.put("model", model);
      report.options.put("concurrency", concurrency);
      report.options.put("connections", connections);
      if (spike) {
        report.spike = SpikeAnalysis.of(report.series, schedule, result.errorsPerSecond());
      }
      report.options.put("rps", rps);
      report.options.put("batch", batch);
      StringWriter text = new StringWriter();
      PrintWriter out = new PrintWriter(text);
      if (format.equals("html")) {
        out.println(HtmlReport.render(report));
      } else if (format.equals("summary")) {
        report.printSummary(out);
      } else {
        String rendered = ReportFormats.render(report, format);
        out.print(rendered.endsWith("\n") ? rendered : rendered + "\n");
      }
      out.flush();
      if (output != null) {
        Files.writeString(output, text.toString());
      } else {
        spec.commandLine().getOut().print(text);
        spec.commandLine().getOut().flush();
      }
      return 0;
    } finally {
      for (ManagedChannel c : channels) {
        c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  /** How long the client warms itself before the clock, with calls that no model answers. */
  private static final long CLIENT_WARMUP_NANOS = TimeUnit.SECONDS.toNanos(1);
  /** A model name no repository can hold (a path), so warm-up calls are refused at once and touch no model. */
  private static final String NO_MODEL = "junction-loadtest/warm-up";

  /**
   * Connects every channel and warms this JVM's whole call path (marshalling the same request,
   * callbacks, recording) before the clock starts: a cold client otherwise adds milliseconds to the
   * first seconds' latencies (a 20 rps run read p50 3–5 ms where a warm client reads ~1 ms), which is
   * the client's cost, not the server's. The calls name a model that cannot exist, so the server
   * refuses them at once and no model's statistics change.
   */
  private static void warmTheClient(Calls calls, ModelInferRequest request, int concurrency) throws InterruptedException {
    new Runner(calls, request.toBuilder().setModelName(NO_MODEL).build())
        .closedLoop(Math.max(1, Math.min(4, concurrency)), 0, CLIENT_WARMUP_NANOS);
  }

  private Metadata parseMetadata(String json) {
    Metadata md = new Metadata();
    Map<?, ?> map = new Gson().fromJson(json, Map.class);
    map.forEach((k, v) -> md.put(Metadata.Key.of(String.valueOf(k), Metadata.ASCII_STRING_MARSHALLER), String.valueOf(v)));
    return md;
  }

  private TraceContextInterceptor traceContexts() {
    try {
      return new TraceContextInterceptor(traceCalls);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--trace-calls: " + e.getMessage());
    }
  }

  private static final Pattern DURATION_PART =
      Pattern.compile("(\\d+(?:\\.\\d+)?)(ns|us|µs|ms|s|m|h)");

  /** A usage error, before anything is sent, for a number the option cannot take. */
  private void requireAtLeast(String option, double value, double min, String meaning) {
    if (value < min) {
      throw new CommandLine.ParameterException(spec.commandLine(), option + " must be at least "
          + (long) min + meaning + ", got " + (value == Math.rint(value) ? String.valueOf((long) value) : value));
    }
  }

  /**
   * Checks a duration option as picocli reads it, so that a bad one is a usage error naming the option (exit 2),
   * not a failure of the run; the option keeps its text, which {@link #parseDuration} reads later.
   */
  public static final class DurationText implements CommandLine.ITypeConverter<String> {
    @Override
    public String convert(String value) {
      try {
        parseDuration(value);
        return value;
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }

  /** ghz's (Go's) durations: 500ms, 10s, 1.5s, 2m, 1m30s, 1h; a plain 0 is zero. */
  public static Duration parseDuration(String text) {
    String t = text.trim();
    if (t.equals("0")) {
      return Duration.ZERO;
    }
    var m = DURATION_PART.matcher(t);
    double nanos = 0;
    int at = 0;
    while (at < t.length() && m.find(at) && m.start() == at) {
      double n = Double.parseDouble(m.group(1));
      nanos += n * switch (m.group(2)) {
        case "ns" -> 1d;
        case "us", "µs" -> 1e3;
        case "ms" -> 1e6;
        case "s" -> 1e9;
        case "m" -> 60e9;
        default -> 3600e9;
      };
      at = m.end();
    }
    if (at == 0 || at != t.length()) {
      throw new IllegalArgumentException("durations look like 500ms, 1.5s, 2m, 1m30s or 1h, got '" + text + "'");
    }
    return Duration.ofNanos(Math.round(nanos));
  }
}
