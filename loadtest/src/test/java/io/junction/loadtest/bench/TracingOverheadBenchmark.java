package io.junction.loadtest.bench;

import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.junction.loadtest.Load;
import io.junction.proto.inference.GRPCInferenceServiceGrpc;
import io.junction.proto.inference.ModelInferRequest;
import io.junction.server.JunctionServer;
import io.junction.server.config.ServerConfig;
import io.junction.server.telemetry.Telemetry;
import io.junction.testkit.DemoRepository;
import io.junction.testkit.Mlp;
import io.junction.testkit.ModelRepositoryWriter;
import io.junction.testkit.OtlpReceiver;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * What tracing costs: throughput of one server with tracing off, with 100 % sampling exported over
 * OTLP/gRPC to a receiver on loopback, and with 1 % sampling, in one run, modes interleaved per repeat.
 * Model: the tiny batching MLP (8 → 4) at concurrency 32, where per-request costs weigh most.
 * Run on demand:
 * {@code mvn -q -B install -DskipTests && mvn -q -B -pl loadtest exec:java -Dexec.classpathScope=test
 * -Dexec.mainClass=io.junction.loadtest.bench.TracingOverheadBenchmark -Dexec.args="3 4000"}
 * (driven by the load generator's library, {@link Load})
 * (arguments: repeats, milliseconds measured per mode, and optionally the endpoint of a receiver in
 * another process, e.g. {@code http://127.0.0.1:4317} for {@code java -cp <testkit classpath>
 * OtlpReceiver 4317}; without it the receiver runs in this JVM and its CPU counts
 * against the server).
 */
public final class TracingOverheadBenchmark {
  private TracingOverheadBenchmark() {}

  public static void main(String[] args) throws Exception {
    int repeats = args.length > 0 ? Integer.parseInt(args[0]) : 3;
    long millis = args.length > 1 ? Long.parseLong(args[1]) : 4000;
    try (ScratchDirectory scratch = new ScratchDirectory("junction-tracing-bench-")) {
      run(repeats, millis, args.length > 2 ? args[2] : null, scratch.path());
    }
  }

  private static void run(int repeats, long millis, String collector, Path repo) throws Exception {
    DemoRepository.write(repo);
    new ModelRepositoryWriter(repo).model("batched", 1, Mlp.seeded(8, 4, 3).onnx())
        .config("batched", "max_batch_size: 64\ndynamic_batching { max_queue_delay_microseconds: 1000 }\n");
    System.out.printf("TracingOverheadBenchmark: %d cores, %d ms per mode, %d repeats, concurrency 32%n",
        Runtime.getRuntime().availableProcessors(), millis, repeats);
    try (OtlpReceiver local = new OtlpReceiver()) {
      String endpoint = collector != null ? collector : local.endpoint();
      // One unmeasured round first: the JIT must have compiled the server's and the SDK's paths before
      // any mode is measured, or whichever mode runs first looks slow.
      run(repo, Telemetry.disabled(), millis);
      run(repo, Telemetry.autoconfigured(otlp(endpoint, "always_on", "1")), millis);
      run(repo, Telemetry.autoconfigured(otlp(endpoint, "traceidratio", "0.01")), millis);
      for (int r = 1; r <= repeats; r++) {
        double off = run(repo, Telemetry.disabled(), millis);
        double all = run(repo, Telemetry.autoconfigured(otlp(endpoint, "always_on", "1")), millis);
        double one = run(repo, Telemetry.autoconfigured(otlp(endpoint, "traceidratio", "0.01")), millis);
        System.out.printf("run %d | off %.0f/s | 100%% %.0f/s (%.3f of off) | 1%% %.0f/s (%.3f of off)%n",
            r, off, all, all / off, one, one / off);
      }
    }
  }

  private static Map<String, String> otlp(String endpoint, String sampler, String arg) {
    return Map.of("otel.traces.exporter", "otlp", "otel.exporter.otlp.protocol", "grpc",
        "otel.exporter.otlp.endpoint", endpoint, "otel.traces.sampler", sampler,
        "otel.traces.sampler.arg", arg);
  }

  private static double run(Path repo, Telemetry telemetry, long millis) throws Exception {
    try (JunctionServer server = new JunctionServer(ServerConfig.loopback(repo), telemetry).start();
        TestServerChannel channel = new TestServerChannel(server.grpcPort())) {
      ModelInferRequest request = BatchingBenchmark.rawFp32("batched", "x", BatchingBenchmark.ramp(8, 0.1f), 1, 8);
      return Load.closedLoop(channel.channel, request, 32, millis / 2, millis).callsPerSecond();
    }
  }

  /** A plaintext channel to a server started here. */
  private static final class TestServerChannel implements AutoCloseable {
    final ManagedChannel channel;

    TestServerChannel(int port) {
      channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    }

    GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub stub() {
      return GRPCInferenceServiceGrpc.newBlockingStub(channel)
          .withDeadlineAfter(1, TimeUnit.HOURS);
    }

    @Override
    public void close() throws InterruptedException {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
