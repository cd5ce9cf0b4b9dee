package io.junction.loadtest.profile;

import com.google.protobuf.util.JsonFormat;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import io.junction.loadtest.Load;
import io.junction.loadtest.LoadTest;
import io.junction.loadtest.RequestFactory;
import io.junction.loadtest.ServerOptions;
import io.junction.proto.inference.GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub;
import io.junction.proto.inference.GRPCInferenceServiceGrpc;
import io.junction.proto.inference.ModelConfig;
import io.junction.proto.inference.ModelConfigRequest;
import io.junction.proto.inference.ModelInferRequest;
import io.junction.proto.inference.ModelInstanceGroup;
import io.junction.proto.inference.ModelMetadataRequest;
import io.junction.proto.inference.ModelMetadataResponse;
import io.junction.proto.inference.ModelRepositoryParameter;
import io.junction.proto.inference.ModelStatisticsRequest;
import io.junction.proto.inference.RepositoryModelLoadRequest;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine;

/**
 * {@code junction-loadtest profile}: how fast, and how much memory? Sweeps concurrency and request batch
 * sizes (and, through RepositoryModelLoad's config parameter, instance counts and queue delays) on a running
 * server; per point it reports throughput, latency percentiles, the server's queue/compute split from
 * ModelStatistics and its memory from /metrics; then it names the knee within a latency budget and suggests
 * the config to start from.
 */
@Command(name = "profile", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Sweeps load (and, with the admin credential, instance counts and queue delays) on one model; "
        + "reports throughput, latency, queue/compute time and memory per point, the knee within a latency budget, "
        + "and a suggested config.")
public final class ProfileCommand implements Callable<Integer> {
  @Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--model", required = true, description = "Model name.")
  String model;

  @Option(names = "--model-version", defaultValue = "", description = "Version (default: the newest).")
  String version;

  @Option(names = "--concurrency", split = ",", defaultValue = "1,2,4,8,16,32", paramLabel = "N,N...",
      description = "Concurrent callers to try, ascending (default: ${DEFAULT-VALUE}); a sweep stops early once "
          + "the latency is over budget and throughput grew less than 5%%.")
  List<Integer> concurrency;

  @Option(names = "--batch-sizes", split = ",", defaultValue = "1", paramLabel = "N,N...",
      description = "Rows per request to try (default: ${DEFAULT-VALUE}); more than 1 needs a batching model.")
  List<Integer> batchSizes;

  @Option(names = "--instances", split = ",", paramLabel = "N,N...",
      description = "Instance counts to try, loading the model with each (RepositoryModelLoad's config parameter: "
          + "needs explicit model control and the admin credential); the model is reloaded from its config.pbtxt after.")
  List<Integer> instances = List.of();

  @Option(names = "--max-queue-delays", split = ",", paramLabel = "US,US...",
      description = "dynamic_batching max_queue_delay_microseconds values to try, as --instances does.")
  List<Long> queueDelays = List.of();

  @Option(names = "--duration", defaultValue = "3s", description = "Measured time per point (default: ${DEFAULT-VALUE}).",
      converter = LoadTest.DurationText.class)
  String duration;

  @Option(names = "--warmup", defaultValue = "1s", description = "Unmeasured load before each point (default: ${DEFAULT-VALUE}).",
      converter = LoadTest.DurationText.class)
  String warmup;

  @Option(names = "--warmup-first", defaultValue = "60s", description = "At most this much unmeasured load before "
      + "the first configuration, in 2 s windows until three in a row agree within 5%%, so that neither JVM is still "
      + "compiling and the first configuration is not measured colder than the others (default: ${DEFAULT-VALUE}).",
      converter = LoadTest.DurationText.class)
  String warmupFirst;

  @Option(names = "--setup-warmup", defaultValue = "3s", description = "Unmeasured load at the highest concurrency "
      + "before each configuration's first point, so that neither JVM is still compiling (default: ${DEFAULT-VALUE}).",
      converter = LoadTest.DurationText.class)
  String setupWarmup;

  @Option(names = "--latency-budget", defaultValue = "50ms", description = "The knee is the best throughput whose "
      + "latency percentile stays within this (default: ${DEFAULT-VALUE}).", converter = LoadTest.DurationText.class)
  String latencyBudget;

  @Option(names = "--percentile", defaultValue = "99", description = "50, 95 or 99: the percentile the budget "
      + "holds (default: ${DEFAULT-VALUE}).")
  int percentile;

  @Option(names = "--metrics", paramLabel = "URL", description = "The server's Prometheus endpoint (default: "
      + "http://HOST:8002/metrics); unreadable means memory unknown.")
  URI metrics;

  @Option(names = "--admin-token", defaultValue = "${env:JUNCTION_ADMIN_TOKEN}",
      description = "Bearer token for RepositoryModelLoad (default: $JUNCTION_ADMIN_TOKEN).")
  String adminToken;

  @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "Write the profile as JSON.")
  Path output;

  @Option(names = "--html", paramLabel = "FILE", description = "Write the profile as an HTML page.")
  Path html;

  @CommandLine.Mixin ServerOptions connection;

  /** One server configuration the sweep loads: -1 for "as configured". */
  private record Setup(int instances, long queueDelayMicros) {}

  private long durationMillis;
  private long warmupMillis;
  private long setupWarmupMillis;
  private long firstWarmupMillis;
  private double budgetMs;

  /** The points of each configuration: batch sizes × concurrency levels, each with the server's side. */
  private final class Sweep {
    private final ManagedChannel channel;
    private final GRPCInferenceServiceBlockingStub stub;
    private final ServerMemory memory;
    private final List<Integer> batches;
    private final List<String> notes;
    private final PrintWriter out;
    private final List<Integer> levels;
    private boolean memoryKnown = true;

    Sweep(ManagedChannel channel, GRPCInferenceServiceBlockingStub stub, ServerMemory memory, List<Integer> batches,
        List<String> notes, PrintWriter out) {
      this.channel = channel;
      this.stub = stub;
      this.memory = memory;
      this.batches = batches;
      this.notes = notes;
      this.out = out;
      this.levels = concurrency.stream().sorted().distinct().toList();
    }

    void measure(Setup setup, List<ProfilePoint> points) throws InterruptedException {
      ModelMetadataResponse metadata = stub.withDeadlineAfter(10, TimeUnit.SECONDS)
          .modelMetadata(ModelMetadataRequest.newBuilder().setName(model).setVersion(version).build());
      ModelInferRequest warmRequest = RequestFactory.fromMetadata(metadata, model, version, batches.get(0), 1);
      int warmCallers = levels.get(levels.size() - 1);
      if (points.isEmpty() && firstWarmupMillis > 0) {
        warmUntilSteady(channel, warmRequest, warmCallers, firstWarmupMillis, out);
      }
      if (setupWarmupMillis > 0) {
        Load.closedLoop(channel, warmRequest, warmCallers, 0, setupWarmupMillis);
      }
      for (int batch : batches) {
        ModelInferRequest request = RequestFactory.fromMetadata(metadata, model, version, batch, 1);
        ProfilePoint previous = null;
        for (int callers : levels) {
          ProfilePoint p = point(setup, request, batch, callers);
          points.add(p);
          out.println(ProfileText.row(p));
          out.flush();
          if (previous != null && p.latencyMs(percentile) > budgetMs
              && p.inferencesPerSecond() < previous.inferencesPerSecond() * 1.05) {
            out.printf("  (p%d over budget and throughput no longer growing: higher concurrency only queues)%n",
                percentile);
            break;
          }
          previous = p;
        }
      }
    }

    private ProfilePoint point(Setup setup, ModelInferRequest request, int batch, int callers)
        throws InterruptedException {
      if (warmupMillis > 0) {
        Load.closedLoop(channel, request, callers, 0, warmupMillis);
      }
      ServerStatistics before = statistics(stub);
      Load.Result r = Load.closedLoop(channel, request, callers, 0, Math.max(1, durationMillis));
      ServerStatistics during = statistics(stub).since(before);
      ServerMemory.Reading mem = ServerMemory.Reading.UNKNOWN;
      if (memoryKnown) {
        try {
          mem = memory.read(model);
        } catch (IOException e) {
          memoryKnown = false;
          notes.add("memory unknown: " + e.getMessage() + " (give --metrics URL)");
        }
      }
      return new ProfilePoint(setup.instances(), setup.queueDelayMicros(), batch, callers, r.callsPerSecond() * batch,
          r.callsPerSecond(), r.p50Micros() / 1000, r.p95Micros() / 1000, r.p99Micros() / 1000, r.answered(),
          r.failures(), during.requests(), during.meanQueueMs(), during.meanComputeMs(), during.meanExecutedBatch(),
          mem.modelFootprintBytes(), mem.processBytes());
    }
  }

  @Override
  public Integer call() throws Exception {
    String server = connection.target(spec.commandLine());
    if (percentile != 50 && percentile != 95 && percentile != 99) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--percentile is 50, 95 or 99, got " + percentile);
    }
    if (concurrency.stream().anyMatch(c -> c < 1) || batchSizes.stream().anyMatch(b -> b < 1)
        || instances.stream().anyMatch(i -> i < 1) || queueDelays.stream().anyMatch(d -> d < 0)) {
      throw new CommandLine.ParameterException(spec.commandLine(), "concurrency, batch sizes and instance counts are "
          + "positive, queue delays not negative");
    }
    durationMillis = LoadTest.parseDuration(duration).toMillis();
    warmupMillis = LoadTest.parseDuration(warmup).toMillis();
    setupWarmupMillis = LoadTest.parseDuration(setupWarmup).toMillis();
    firstWarmupMillis = LoadTest.parseDuration(warmupFirst).toMillis();
    budgetMs = LoadTest.parseDuration(latencyBudget).toNanos() / 1e6;
    PrintWriter out = spec.commandLine().getOut();
    ServerMemory memory = new ServerMemory(metrics != null ? metrics
        : URI.create("http://" + host(server) + ":8002/metrics"));
    ManagedChannel channel = connection.open(spec.commandLine(), false);
    try {
      GRPCInferenceServiceBlockingStub stub = GRPCInferenceServiceGrpc.newBlockingStub(channel);
      ModelConfig configured = stub.withDeadlineAfter(10, TimeUnit.SECONDS)
          .modelConfig(ModelConfigRequest.newBuilder().setName(model).setVersion(version).build()).getConfig();
      List<Integer> batches = batchSizes;
      List<String> notes = new ArrayList<>();
      if (configured.getMaxBatchSize() == 0 && batchSizes.stream().anyMatch(b -> b > 1)) {
        batches = List.of(1);
        notes.add("the model has no batch dimension (max_batch_size 0): only batch size 1 was tried");
      }
      boolean sweepsConfig = !instances.isEmpty() || !queueDelays.isEmpty();
      List<ProfilePoint> points = new ArrayList<>();
      out.println(ProfileText.header());
      try {
        Sweep sweep = new Sweep(channel, stub, memory, batches, notes, out);
        for (Setup setup : setups()) {
          if (sweepsConfig) {
            loadChecked(channel, stub, configured, setup);
            out.printf("loaded %s with %s%n", model, label(setup));
            out.flush();
          }
          sweep.measure(setup, points);
        }
      } finally {
        if (sweepsConfig) {
          restore(channel, out, notes);
        }
      }
      ProfileAnalysis analysis = ProfileAnalysis.of(points, budgetMs, percentile, new ProfileAnalysis.Context(
          configured.getMaxBatchSize(), configured.hasDynamicBatching() || !queueDelays.isEmpty(), instanceKind(configured),
          !instances.isEmpty(), !queueDelays.isEmpty(),
          batches.stream().mapToInt(Integer::intValue).max().orElse(1)));
      ProfileReport report = new ProfileReport(model, version, server, budgetMs, percentile, durationMillis,
          warmupMillis, points, analysis, notes);
      out.print(ProfileText.summary(report));
      out.flush();
      if (output != null) {
        Files.writeString(output, ProfileReport.toJson(report), StandardCharsets.UTF_8);
      }
      if (html != null) {
        Files.writeString(html, ProfileHtml.render(report), StandardCharsets.UTF_8);
      }
      return points.stream().anyMatch(p -> p.answered() > 0) ? 0 : 1;
    } finally {
      channel.shutdownNow();
    }
  }

  /**
   * Load in 2 s windows until three in a row agree within 5 % (a JIT warms in steps, and two windows on one
   * step agree too), or {@code maxMillis} passed.
   */
  private static void warmUntilSteady(ManagedChannel channel, ModelInferRequest request, int callers, long maxMillis,
      PrintWriter out) throws InterruptedException {
    long window = Math.min(2000, maxMillis);
    long start = System.nanoTime();
    Deque<Double> last = new ArrayDeque<>();
    while (true) {
      last.addLast(Load.closedLoop(channel, request, callers, 0, window).callsPerSecond());
      if (last.size() > 3) {
        last.removeFirst();
      }
      long spent = (System.nanoTime() - start) / 1_000_000;
      double high = last.stream().mapToDouble(Double::doubleValue).max().orElse(0);
      double low = last.stream().mapToDouble(Double::doubleValue).min().orElse(0);
      boolean steady = last.size() == 3 && high - low <= 0.05 * high;
      if (steady || spent + window > maxMillis) {
        out.printf("warmed up for %.0f s (%s; %.0f calls/s at concurrency %d)%n", spent / 1000.0,
            steady ? "throughput steady" : "not yet steady: the first points may read slow", last.getLast(), callers);
        out.flush();
        return;
      }
    }
  }

  private List<Setup> setups() {
    List<Integer> counts = instances.isEmpty() ? List.of(-1) : instances;
    List<Long> delays = queueDelays.isEmpty() ? List.of(-1L) : queueDelays;
    List<Setup> setups = new ArrayList<>();
    for (int n : counts) {
      for (long d : delays) {
        setups.add(new Setup(n, d));
      }
    }
    return setups;
  }

  private static String label(Setup s) {
    return (s.instances() > 0 ? s.instances() + " instance(s)" : "its instances")
        + (s.queueDelayMicros() >= 0 ? ", max_queue_delay_microseconds " + s.queueDelayMicros() : "");
  }

  private static String host(String target) {
    int colon = target.lastIndexOf(':');
    String host = colon > 0 ? target.substring(0, colon) : target;
    return host.startsWith("dns:///") ? host.substring("dns:///".length()) : host;
  }

  /** The served config with this setup's instance count (every group) and queue delay. */
  static ModelConfig override(ModelConfig configured, Setup setup) {
    ModelConfig.Builder b = configured.toBuilder();
    if (setup.instances() > 0) {
      if (b.getInstanceGroupCount() == 0) {
        b.addInstanceGroup(ModelInstanceGroup.newBuilder().setKind(ModelInstanceGroup.Kind.KIND_AUTO));
      }
      for (int i = 0; i < b.getInstanceGroupCount(); i++) {
        b.setInstanceGroup(i, b.getInstanceGroup(i).toBuilder().setCount(setup.instances()));
      }
    }
    if (setup.queueDelayMicros() >= 0) {
      b.setDynamicBatching(b.getDynamicBatching().toBuilder().setMaxQueueDelayMicroseconds(setup.queueDelayMicros()));
    }
    return b.build();
  }

  private static boolean servedAsAsked(ModelConfig served, Setup setup) {
    boolean instancesOk = setup.instances() < 0
        || served.getInstanceGroupList().stream().allMatch(g -> g.getCount() == setup.instances());
    boolean delayOk = setup.queueDelayMicros() < 0 || (served.hasDynamicBatching()
        && served.getDynamicBatching().getMaxQueueDelayMicroseconds() == setup.queueDelayMicros());
    return instancesOk && delayOk;
  }

  private static String instanceKind(ModelConfig config) {
    return config.getInstanceGroupCount() == 0 ? "KIND_AUTO" : config.getInstanceGroup(0).getKind().name();
  }

  private GRPCInferenceServiceBlockingStub admin(ManagedChannel channel) {
    GRPCInferenceServiceBlockingStub stub = GRPCInferenceServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(5, TimeUnit.MINUTES);
    if (adminToken == null || adminToken.isEmpty()) {
      return stub;
    }
    Metadata md = new Metadata();
    md.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + adminToken);
    return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md));
  }

  /** Loads the setup's config and checks that the server reports it before anything is measured. */
  private void loadChecked(ManagedChannel channel, GRPCInferenceServiceBlockingStub stub, ModelConfig configured,
      Setup setup) throws IOException {
    load(channel, override(configured, setup));
    ModelConfig served = stub.withDeadlineAfter(10, TimeUnit.SECONDS)
        .modelConfig(ModelConfigRequest.newBuilder().setName(model).setVersion(version).build()).getConfig();
    if (!servedAsAsked(served, setup)) {
      throw new IllegalStateException("the server loaded " + model + " for " + label(setup) + " but reports "
          + served.getInstanceGroupList().stream().map(g -> g.getCount() + " " + g.getKind()).toList()
          + " instances and max_queue_delay_microseconds " + served.getDynamicBatching().getMaxQueueDelayMicroseconds());
    }
  }

  private void load(ManagedChannel channel, ModelConfig config) throws IOException {
    String json = JsonFormat.printer().preservingProtoFieldNames()
        .omittingInsignificantWhitespace().print(config);
    admin(channel).repositoryModelLoad(RepositoryModelLoadRequest.newBuilder().setModelName(model)
        .putParameters("config", ModelRepositoryParameter.newBuilder().setStringParam(json).build()).build());
  }

  /** Loads the model from its config.pbtxt again, ending the profile's override. */
  private void restore(ManagedChannel channel, PrintWriter out, List<String> notes) {
    try {
      admin(channel).repositoryModelLoad(RepositoryModelLoadRequest.newBuilder().setModelName(model).build());
      out.printf("reloaded %s from its config.pbtxt%n", model);
    } catch (RuntimeException e) {
      String note = "could not reload " + model + " from its config.pbtxt after the sweep: " + e.getMessage();
      notes.add(note);
      out.println(note);
    }
    out.flush();
  }

  private ServerStatistics statistics(GRPCInferenceServiceBlockingStub stub) {
    return ServerStatistics.of(stub.withDeadlineAfter(10, TimeUnit.SECONDS).modelStatistics(
        ModelStatisticsRequest.newBuilder().setName(model).setVersion(version).build()));
  }
}
