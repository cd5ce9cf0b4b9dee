package io.junction.loadtest.bench;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.junction.loadtest.InferMethod;
import io.junction.loadtest.Load;
import io.junction.proto.inference.GRPCInferenceServiceGrpc;
import io.junction.proto.inference.ModelInferRequest;
import io.junction.proto.inference.ModelStatistics;
import io.junction.proto.inference.ModelStatisticsRequest;
import io.junction.testkit.DeepMlp;
import io.junction.testkit.DemoRepository;
import io.junction.testkit.ModelRepositoryWriter;
import io.junction.testkit.OnnxModelBuilder;
import io.junction.testkit.OnnxType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What each call costs the server, measured the way issue "per-call cost" asks: the servers pinned to
 * one core, this load generator (and the OTLP receiver) to another, closed loops of 1-row calls with
 * raw FP32 contents, warm JVMs, and every ratio against a floor and a limit measured in the same run.
 *
 * <ul>
 *   <li>E: a plain grpc-java server echoing the same request ({@link EchoServer}), on the server core;
 *   <li>L1: in-process ONNX Runtime, one thread, best batch size ({@link OrtLimit}), on the server core; found
 *       by a sweep before the servers start, then measured again after each repetition's big-MLP windows, at
 *       that size and at the mean batch Junction made, so that each row's target and its ceiling at
 *       Junction's batch size, 1 / (1/E + 1/L(batch)) over the target, come from the same minutes;
 *   <li>Junction (one process per telemetry setting, all on the server core, {@code --cpu-slots 1}):
 *       the big MLP 512→2048→2048→512 with batching at 64 callers against 1 / (1/E + 1/L1) and against
 *       batching off, with where its CPU a row went (ONNX Runtime's runs by the model's batch statistics, which
 *       are wall time and so include what other threads took of the core meanwhile, and the rest); the demo
 *       {@code mlp} (8→4) at 16 callers and at 1 caller against E (at 16 callers also a call's mean time inside
 *       Junction, queued and in all, by the model's statistics, beside its whole time at the caller), and at 16 callers
 *       over ModelStreamInfer (one stream per caller) against E's streams; a 1 MiB
 *       identity call against E; tracing off, default, 100 % and 1 % sampling exported over OTLP/gRPC;
 *       payload logging of every call (inputs and outputs) to gzip JSON-lines files against logging off.
 * </ul>
 *
 * Run with {@code loadtest/bench/per-call-cost.sh [repeats] [seconds per point]}, which builds the class
 * path, pins this driver to core 0 and passes {@code -Dserver.cores=1}, so servers run on core 1, when
 * the machine has two or more cores and taskset exists (otherwise nothing is pinned and the report
 * says so).
 */
public final class PerCallCostBenchmark {
  private static final int BIG_WIDTH = 512;
  /** The big MLP's config but for batching: one CPU instance, batches of up to 128 rows. */
  private static final String BIG_INSTANCE = "max_batch_size: 128\ninstance_group [ { count: 1 kind: KIND_CPU } ]\n";
  /** The big MLP's batching config unless {@code BIG_MLP_BATCHING} names another. */
  private static final String BIG_BATCHING =
      "dynamic_batching { preferred_batch_size: [ 32, 64, 128 ] max_queue_delay_microseconds: 2000 }";
  private static final long[] IMAGE_SHAPE = {1, 3, 224, 224};
  /** A line of {@link OrtLimit}'s output: one batch size's rate. */
  private static final Pattern LIMIT_LINE =
      Pattern.compile("^batch (\\d+): (\\d+) rows/s$");

  private final String classPath = System.getProperty("java.class.path");
  private final Path jar;
  private final List<String> pin;
  private final List<Process> processes = new ArrayList<>();
  private final long warmupMillis;
  /** Each server's own load in the unreported first repetition, before any window is measured. */
  private final long firstWarmupMillis;
  private final long measureMillis;

  private final Set<String> sections;

  private PerCallCostBenchmark(Path jar, List<String> pin, long warmupMillis, long firstWarmupMillis,
      long measureMillis, Set<String> sections) {
    this.firstWarmupMillis = firstWarmupMillis;
    this.sections = sections;
    this.jar = jar;
    this.pin = pin;
    this.warmupMillis = warmupMillis;
    this.measureMillis = measureMillis;
  }

  public static void main(String[] args) throws Exception {
    int repeats = args.length > 0 ? Integer.parseInt(args[0]) : 3;
    long seconds = args.length > 1 ? Long.parseLong(args[1]) : 5;
    // Optional: the comparisons to run (big, plain, small, one, stream, large, tracing, payload); all by default.
    Set<String> sections = args.length > 2 ? Set.of(args[2].split(",")) : Set.of(
        "big", "plain", "small", "one", "stream", "large", "tracing", "payload");
    // Optional: seconds of each server's own load before its first measured window. On one shared core C2
    // keeps compiling for about a minute (BENCHMARKS.md, "JIT"); 20 s is enough for ratios of servers that run
    // the same code, not for comparing a server that exports spans (more code) with one that does not.
    long firstWarmup = args.length > 3 ? Long.parseLong(args[3]) : 4 * Math.max(5, seconds);
    Path jar = Path.of(System.getProperty("junction.jar", "server/target/junction-server.jar"));
    // The script pins this driver to the load generator's core and names the servers' core, when the
    // machine has two or more cores and taskset; this JVM then sees only its own core.
    String serverCores = System.getProperty("server.cores");
    List<String> pin = serverCores == null ? List.of() : List.of("taskset", "-c", serverCores);
    System.out.println("big MLP: " + bigBatching());
    List<String> extraOptions = extraServerOptions();
    if (!extraOptions.isEmpty()) {
      System.out.println("every Junction server also gets: " + String.join(" ", extraOptions));
    }
    System.out.printf("PerCallCostBenchmark: %d repeats, %d s per point (+%.1f s warm-up), %d s of warm-up per server "
        + "first; servers %s, load generator on %s%n", repeats, seconds, Math.max(5, seconds) / 2.0, firstWarmup,
        pin.isEmpty() ? "not pinned" : "pinned to core(s) " + serverCores,
        pin.isEmpty() ? "any core" : "the cores this driver was started on");
    PerCallCostBenchmark bench = new PerCallCostBenchmark(jar, pin, Math.max(5, seconds) * 1000, firstWarmup * 1000,
        seconds * 1000, sections);
    try (ScratchDirectory scratch = new ScratchDirectory("junction-per-call-")) {
      try {
        bench.run(repeats, scratch.path());
      } finally {
        bench.processes.forEach(Process::destroy);
        for (Process p : bench.processes) {
          p.waitFor(10, TimeUnit.SECONDS);
        }
      }
    }
  }

  /** Options {@code JUNCTION_SERVER_ARGS} adds to every Junction server, to compare settings of one build. */
  private static List<String> extraServerOptions() {
    String options = System.getenv().getOrDefault("JUNCTION_SERVER_ARGS", "").strip();
    return options.isEmpty() ? List.of() : List.of(options.split("\\s+"));
  }

  /** The big MLP's config.pbtxt: one CPU instance, batches of up to 128 rows, and {@link #bigBatching()}. */
  static String bigConfig() {
    return BIG_INSTANCE + bigBatching() + "\n";
  }

  /** The big MLP's batching config: {@code BIG_MLP_BATCHING} (a config.pbtxt fragment), else the default. */
  static String bigBatching() {
    return System.getenv().getOrDefault("BIG_MLP_BATCHING", BIG_BATCHING);
  }

  /** The "1 MiB" comparison's model: an identity of [n, 3, 224, 224] FP32 images, 602,112 bytes a row in and out. */
  static byte[] imageModel() {
    return new OnnxModelBuilder("image")
        .input("x", OnnxType.FLOAT, OnnxModelBuilder.DYNAMIC, 3, 224, 224)
        .output("y", OnnxType.FLOAT, OnnxModelBuilder.DYNAMIC, 3, 224, 224)
        .node("Identity", List.of("x"), List.of("y")).build();
  }

  static final String IMAGE_CONFIG = "max_batch_size: 8\n";

  /** The batch-friendly model of the batching target: 512→2048→2048→512, ~24 MB. */
  static DeepMlp bigMlp() {
    return DeepMlp.seeded(1, BIG_WIDTH, 2048, 2048, BIG_WIDTH);
  }

  private void run(int repeats, Path dir) throws Exception {
    Path repo = DemoRepository.write(dir.resolve("repo"));
    DeepMlp big = bigMlp();
    new ModelRepositoryWriter(repo)
        .model("big", 1, big.onnx())
        .config("big", bigConfig())
        .model("big_n", 1, big.onnx()).config("big_n", BIG_INSTANCE)
        .model("image", 1, imageModel())
        .config("image", IMAGE_CONFIG);
    Path bigFile = repo.resolve("big/1/model.onnx");

    System.out.println("L1: in-process ONNX Runtime, 1 thread, best batch size ...");
    String[] limit = lastLine(java(List.of(), "io.junction.loadtest.bench.OrtLimit", bigFile.toString(), "x",
        Integer.toString(BIG_WIDTH), "1500")).split(" ");
    int bestBatch = Integer.parseInt(limit[2]);
    System.out.printf("L1 = %.0f rows/s (batch %d); each repetition measures it again next to its big MLP windows%n",
        Double.parseDouble(limit[1]), bestBatch);

    int otlpPort = Servers.freePort();
    start(List.of(), "io.junction.testkit.OtlpReceiver", List.of(Integer.toString(otlpPort)), Map.of(), false);
    Endpoint echo = ready(start(pin, "io.junction.loadtest.bench.EchoServer", List.of(), Map.of(), true));
    Endpoint junction = junction(repo, Map.of(), "true");
    Endpoint off = junction(repo, Map.of(), "false");
    String receiver = "http://127.0.0.1:" + otlpPort;
    Endpoint all = junction(repo, Map.of("OTEL_TRACES_EXPORTER", "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT", receiver,
        "OTEL_TRACES_SAMPLER", "always_on"), "true");
    Endpoint some = junction(repo, Map.of("OTEL_TRACES_EXPORTER", "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT", receiver,
        "OTEL_TRACES_SAMPLER", "traceidratio", "OTEL_TRACES_SAMPLER_ARG", "0.01"), "true");
    // Payload logging of every call (inputs and outputs) to gzip JSON-lines files, tracing off on both sides.
    // (started only when measured, so that builds without payload logging can be measured too)
    Endpoint logged = sections.contains("payload")
        ? junction(repo, Map.of(), "false", "--payload-log-dir", dir.resolve("payloads").toString()) : off;

    ModelInferRequest bigRequest = request("big", "x", new long[] {1, BIG_WIDTH});
    ModelInferRequest bigPlain = bigRequest.toBuilder().setModelName("big_n").build();
    ModelInferRequest tiny = request("mlp", "x", new long[] {1, 8});
    ModelInferRequest image = request("image", "x", IMAGE_SHAPE);

    System.out.println();
    String header = "| rep | E big c=64 /s | L1 / L at B's batch rows/s | B c=64 rows/s (mean batch) | 1/(1/E+1/L1) "
        + "| B/target | ceiling at B's batch "
        + "| CPU µs/row B (ONNX Runtime + rest) / E, 1/L1 | N c=64 /s | B/N "
        + "| tiny c=16 J / E /s | ratio | CPU µs/call J / E | tiny c=1 p50 J / E µs | added "
        + "| tiny streams c=16 J / E /s | ratio | CPU µs/call J / E | 1 MiB c=4 J / E /s | ratio "
        + "| CPU µs/call J / E "
        + "| tracing off / default / 100 % / 1 % /s | 100 %/off | 1 %/off | CPU µs/call off / 100 % / 1 % "
        + "| payload log off / 100 % /s | ratio | CPU µs/call off / 100 % "
        + "| tiny c=16 µs a call in Junction (queued) / whole |";
    System.out.println(header);
    System.out.println("|---".repeat((int) header.chars().filter(c -> c == '|').count() - 1) + "|");
    // Repetition 0 warms every server's JIT at the exact load it will be measured at; it is not reported.
    for (int r = 0; r <= repeats; r++) {
      warming = r == 0;
      // Each comparison alternates its servers in short windows, so a drift of the machine's speed
      // (other tenants, frequency) hits both sides alike; each figure is the median of its windows.
      ModelCounts before = counts(junction, "big");
      Load.Result[] bigPair = interleaved("big", bigRequest, 64, echo, junction);
      ModelCounts after = counts(junction, "big");
      long rows = after.rows() - before.rows();
      double meanBatch = rows / (double) Math.max(1, after.executions() - before.executions());
      // Where B's CPU per row goes: ONNX Runtime's runs (the model's batch statistics) and the rest, which is the
      // calls' own work, to hold against what the echo spends a call and the limit a row.
      double ortMicrosPerRow = (after.inferNanos() - before.inferNanos()) / 1000.0 / Math.max(1, rows);
      // The limit, measured again beside these windows (the VM's speed drifts between minutes), at its best batch and
      // at the batches B made: 1 / (1/E + 1/L(B's batch)) is the most a server could do with batches of that size.
      Limits limits = warming || !sections.contains("big")
          ? new Limits(Double.NaN, Double.NaN) : limits(bigFile, bestBatch, (int) Math.round(meanBatch));
      Load.Result[] plain = interleaved("plain", bigPlain, 64, junction);
      ServerTimes smallBefore = sections.contains("small") ? serverTimes(junction, "mlp") : null;
      Load.Result[] small = interleaved("small", tiny, 16, echo, junction);
      // A call's mean time inside Junction (by its statistics: from its request decoded to its model run's end)
      // beside its whole time at the caller (16 callers / rate, Little's law): what is not inside is the transport's
      // and the load generator's, where a server that answers promptly cannot make its calls wait less.
      ServerTimes inside = smallBefore == null
          ? new ServerTimes(0, 0, 0) : serverTimes(junction, "mlp").minus(smallBefore);
      Load.Result[] one = interleaved("one", tiny, 1, echo, junction);
      Load.Result[] streams = interleaved("stream", InferMethod.MODEL_STREAM_INFER, tiny, 16, echo, junction);
      Load.Result[] large = interleaved("large", image, 4, echo, junction);
      Load.Result[] tracing = interleaved("tracing", tiny, 16, off, junction, all, some);
      Load.Result[] payload = interleaved("payload", tiny, 16, off, logged);
      if (r == 0) {
        continue;
      }
      Load.Result eBig = bigPair[0];
      Load.Result b = bigPair[1];
      Load.Result n = plain[0];
      double l1 = limits.best();
      double target = 1 / (1 / eBig.callsPerSecond() + 1 / l1);
      double ceiling = 1 / (1 / eBig.callsPerSecond() + 1 / limits.atBatch()) / target;
      System.out.printf("| %d | %.0f | %.0f / %.0f | %.0f (%.1f) | %.0f | %.2f | %.2f "
              + "| %.0f (%.0f + %.0f) / %.0f, %.0f "
              + "| %.0f | %.2f "
              + "| %.0f / %.0f | %.2f | %.0f / %.0f "
              + "| %.0f / %.0f | %.0f | %.0f / %.0f | %.2f | %.0f / %.0f | %.0f / %.0f | %.2f | %.0f / %.0f "
              + "| %.0f / %.0f / %.0f / %.0f | %.2f | %.2f "
              + "| %.0f / %.0f / %.0f | %.0f / %.0f | %.2f | %.0f / %.0f "
              + "| %.0f (%.0f) / %.0f |%n",
          r, eBig.callsPerSecond(), l1, limits.atBatch(), b.callsPerSecond(), meanBatch, target,
          b.callsPerSecond() / target,
          ceiling,
          b.serverCpuMicrosPerCall(), ortMicrosPerRow, b.serverCpuMicrosPerCall() - ortMicrosPerRow,
          eBig.serverCpuMicrosPerCall(), 1e6 / l1,
          n.callsPerSecond(), b.callsPerSecond() / n.callsPerSecond(),
          small[1].callsPerSecond(), small[0].callsPerSecond(), small[1].callsPerSecond() / small[0].callsPerSecond(),
          small[1].serverCpuMicrosPerCall(), small[0].serverCpuMicrosPerCall(),
          one[1].p50Micros(), one[0].p50Micros(), one[1].p50Micros() - one[0].p50Micros(),
          streams[1].callsPerSecond(), streams[0].callsPerSecond(), streams[1].callsPerSecond() / streams[0].callsPerSecond(),
          streams[1].serverCpuMicrosPerCall(), streams[0].serverCpuMicrosPerCall(),
          large[1].callsPerSecond(), large[0].callsPerSecond(), large[1].callsPerSecond() / large[0].callsPerSecond(),
          large[1].serverCpuMicrosPerCall(), large[0].serverCpuMicrosPerCall(),
          tracing[0].callsPerSecond(), tracing[1].callsPerSecond(), tracing[2].callsPerSecond(),
          tracing[3].callsPerSecond(), tracing[2].callsPerSecond() / tracing[0].callsPerSecond(),
          tracing[3].callsPerSecond() / tracing[0].callsPerSecond(),
          tracing[0].serverCpuMicrosPerCall(), tracing[2].serverCpuMicrosPerCall(), tracing[3].serverCpuMicrosPerCall(),
          payload[0].callsPerSecond(), payload[1].callsPerSecond(),
          payload[1].callsPerSecond() / payload[0].callsPerSecond(),
          payload[0].serverCpuMicrosPerCall(), payload[1].serverCpuMicrosPerCall(),
          inside.meanMicros(), inside.meanQueueMicros(), 16 * 1e6 / small[1].callsPerSecond());
      if (failures > 0) {
        System.out.println("(" + failures + " failed calls in this repetition: its figures are not comparable)");
        failures = 0;
      }
    }
    for (Endpoint e : List.of(echo, junction, off, all, some, logged)) {
      e.channel().shutdownNow();
    }
  }

  /** A server: its channel, and its process (taskset execs the JVM, so the pid is the server's). */
  private record Endpoint(ManagedChannel channel, ProcessHandle process) {
    /** The server's CPU time so far (user and system, all threads), or -1. */
    long cpuNanos() {
      return process.info().totalCpuDuration().map(Duration::toNanos).orElse(-1L);
    }
  }

  /** True during repetition 0, which warms each server's JIT for longer and is not reported. */
  private boolean warming;
  /** Failed calls since the last report. */
  private long failures;

  /** Windows per server in each comparison. */
  private static final int WINDOWS = 3;

  /** Median throughput and median p50 over {@link #WINDOWS} windows per server, servers alternating. */
  private Load.Result[] interleaved(String section, ModelInferRequest request, int callers, Endpoint... servers)
      throws InterruptedException {
    return interleaved(section, InferMethod.MODEL_INFER, request, callers, servers);
  }

  private Load.Result[] interleaved(String section, InferMethod method, ModelInferRequest request, int callers,
      Endpoint... servers) throws InterruptedException {
    if (!sections.contains(section)) {
      Load.Result skipped = new Load.Result(Double.NaN, Double.NaN, Double.NaN, Double.NaN, 0, 0, Double.NaN);
      return Collections.nCopies(servers.length, skipped).toArray(Load.Result[]::new);
    }
    List<List<Load.Result>> windows = new ArrayList<>();
    for (Endpoint ignored : servers) {
      windows.add(new ArrayList<>());
    }
    for (int w = 0; w < (warming ? 1 : WINDOWS); w++) {
      for (int i = 0; i < servers.length; i++) {
        Load.Result result = load(servers[i], method, request, callers);
        failures += result.failures();
        windows.get(i).add(result);
      }
    }
    Load.Result[] medians = new Load.Result[servers.length];
    for (int i = 0; i < servers.length; i++) {
      List<Load.Result> w = windows.get(i);
      double[] rates = w.stream().mapToDouble(Load.Result::callsPerSecond).sorted().toArray();
      double[] p50s = w.stream().mapToDouble(Load.Result::p50Micros).sorted().toArray();
      double[] p95s = w.stream().mapToDouble(Load.Result::p95Micros).sorted().toArray();
      double[] p99s = w.stream().mapToDouble(Load.Result::p99Micros).sorted().toArray();
      double[] cpus = w.stream().mapToDouble(Load.Result::serverCpuMicrosPerCall).sorted().toArray();
      medians[i] = new Load.Result(rates[rates.length / 2], p50s[p50s.length / 2], p95s[p95s.length / 2],
          p99s[p99s.length / 2], w.stream().mapToLong(Load.Result::answered).sum(), 0, cpus[cpus.length / 2]);
    }
    return medians;
  }

  private Load.Result load(Endpoint endpoint, InferMethod method, ModelInferRequest request, int callers)
      throws InterruptedException {
    // C2 on one shared core needs tens of seconds of a server's own load before its figures settle.
    return Load.closedLoop(endpoint.channel(), method, request, callers, warming ? firstWarmupMillis : warmupMillis / 2,
        measureMillis, endpoint::cpuNanos);
  }

  /** A model's successful requests over all its versions: how many, and their nanoseconds in Junction and queued. */
  private record ServerTimes(long calls, long nanos, long queueNanos) {
    ServerTimes minus(ServerTimes earlier) {
      return new ServerTimes(calls - earlier.calls, nanos - earlier.nanos, queueNanos - earlier.queueNanos);
    }

    double meanMicros() {
      return calls == 0 ? Double.NaN : nanos / 1000.0 / calls;
    }

    double meanQueueMicros() {
      return calls == 0 ? Double.NaN : queueNanos / 1000.0 / calls;
    }
  }

  private static ServerTimes serverTimes(Endpoint endpoint, String model) {
    long calls = 0;
    long nanos = 0;
    long queueNanos = 0;
    for (ModelStatistics s : GRPCInferenceServiceGrpc.newBlockingStub(endpoint.channel())
        .withDeadlineAfter(10, TimeUnit.SECONDS)
        .modelStatistics(ModelStatisticsRequest.newBuilder().setName(model).build()).getModelStatsList()) {
      calls += s.getInferenceStats().getSuccess().getCount();
      nanos += s.getInferenceStats().getSuccess().getNs();
      queueNanos += s.getInferenceStats().getQueue().getNs();
    }
    return new ServerTimes(calls, nanos, queueNanos);
  }

  /** A model version's statistics: rows run, executions, and nanoseconds of ONNX Runtime's runs over all batches. */
  private record ModelCounts(long rows, long executions, long inferNanos) {}

  /** Version 1's counts. */
  private static ModelCounts counts(Endpoint endpoint, String model) {
    ModelStatistics s = GRPCInferenceServiceGrpc.newBlockingStub(endpoint.channel()).withDeadlineAfter(10, TimeUnit.SECONDS)
        .modelStatistics(ModelStatisticsRequest.newBuilder().setName(model).build()).getModelStats(0);
    long inferNanos = 0;
    for (var batch : s.getBatchStatsList()) {
      inferNanos += batch.getComputeInfer().getNs();
    }
    return new ModelCounts(s.getInferenceCount(), s.getExecutionCount(), inferNanos);
  }

  private static ModelInferRequest request(String model, String input, long[] shape) {
    long count = 1;
    for (long d : shape) {
      count *= d;
    }
    ByteBuffer data = ByteBuffer.allocate((int) count * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < count; i++) {
      data.putFloat((float) Math.cos(i));
    }
    ModelInferRequest.InferInputTensor.Builder in = ModelInferRequest.InferInputTensor.newBuilder()
        .setName(input).setDatatype("FP32");
    for (long d : shape) {
      in.addShape(d);
    }
    return ModelInferRequest.newBuilder().setModelName(model).addInputs(in)
        .addRawInputContents(ByteString.copyFrom(data.array())).build();
  }

  private Endpoint junction(Path repo, Map<String, String> env, String tracing, String... extra) throws Exception {
    int port = Servers.freePort();
    List<String> args = new ArrayList<>(List.of("--model-repository", repo.toString(), "--grpc-port",
        Integer.toString(port), "--grpc-address", "127.0.0.1", "--http-port", "-1", "--cpu-slots", "1",
        "--tracing", tracing));
    args.addAll(List.of(extra));
    args.addAll(extraServerOptions());
    start(pin, null, args, env, false);
    return ready(port);
  }

  /** Starts a JVM: {@code mainClass} on this class path, or the server jar when it is null. */
  private int start(List<String> prefix, String mainClass, List<String> args, Map<String, String> env,
      boolean choosePort) throws IOException {
    List<String> command = new ArrayList<>(prefix);
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xms1g");
    command.add("-Xmx1g");
    if (mainClass == null) {
      command.add("-jar");
      command.add(jar.toString());
    } else {
      command.add("-cp");
      command.add(classPath);
      command.add(mainClass);
    }
    int port = choosePort ? Servers.freePort() : -1;
    if (choosePort) {
      command.add(Integer.toString(port));
    }
    command.addAll(args);
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD);
    builder.environment().putAll(env);
    processes.add(builder.start());
    return port;
  }

  /** The server started last, once it answers on {@code port}. */
  private Endpoint ready(int port) throws Exception {
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext()
        .maxInboundMessageSize(64 << 20).build();
    Servers.awaitReady(channel, "server on port " + port);
    return new Endpoint(channel, processes.get(processes.size() - 1).toHandle());
  }

  /** Runs a JVM to completion and returns its output. */
  private String java(List<String> prefix, String mainClass, String... args) throws Exception {
    List<String> command = new ArrayList<>(pin);
    command.addAll(prefix);
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-cp");
    command.add(classPath);
    command.add(mainClass);
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (p.waitFor() != 0) {
      throw new IllegalStateException(mainClass + " failed: " + out);
    }
    return out;
  }

  /** In-process ONNX Runtime's rows/s at its best batch size and at the batch size Junction made. */
  private record Limits(double best, double atBatch) {}

  /** {@link Limits} measured on the server core, at {@code best} rows and at {@code atBatch} rows. */
  private Limits limits(Path model, int best, int atBatch) throws Exception {
    int size = Math.max(1, atBatch);
    String out = java(List.of(), "io.junction.loadtest.bench.OrtLimit", model.toString(), "x",
        Integer.toString(BIG_WIDTH), "1000", best + "," + size);
    Map<Integer, Double> rates = new HashMap<>();
    for (String line : out.split("\n")) {
      Matcher m = LIMIT_LINE.matcher(line.strip());
      if (m.matches()) {
        rates.put(Integer.parseInt(m.group(1)), Double.parseDouble(m.group(2)));
      }
    }
    return new Limits(rates.get(best), rates.get(size));
  }

  private static String lastLine(String text) {
    String[] lines = text.strip().split("\n");
    return lines[lines.length - 1].strip();
  }
}
