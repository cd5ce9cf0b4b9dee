package io.junction.server.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.junction.proto.inference.GRPCInferenceServiceGrpc;
import io.junction.proto.inference.ModelInferRequest;
import io.junction.proto.inference.ServerLiveRequest;
import io.junction.server.InferRequests;
import io.junction.server.TestServer;
import io.junction.testkit.DemoRepository;
import io.junction.testkit.Mlp;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * What Junction adds over calling ONNX Runtime in process, measured in one run on the same machine:
 * latency at concurrency 1 (p50/p99) and throughput at concurrency 1 and N, on the demo MLP (8 → 4)
 * with one row per request — a tiny model, so the server's own cost dominates.
 *
 * <p>Run on demand, never in CI:
 * {@code mvn -q -B install -DskipTests && mvn -q -B -pl server exec:java -Dexec.classpathScope=test
 * -Dexec.mainClass=io.junction.server.bench.OverheadBenchmark -Dexec.args="3 20000 16"}
 * (arguments: repeats, requests per measurement, concurrency).
 */
public final class OverheadBenchmark {
  private OverheadBenchmark() {}

  public static void main(String[] args) throws Exception {
    int repeats = args.length > 0 ? Integer.parseInt(args[0]) : 3;
    int requests = args.length > 1 ? Integer.parseInt(args[1]) : 20_000;
    int concurrency = args.length > 2 ? Integer.parseInt(args[2]) : 16;
    Path repo = DemoRepository.write(Files.createTempDirectory("junction-bench-"));
    Mlp mlp = DemoRepository.mlp(1);
    float[] x = InferRequests.ramp(8, 0.25f);
    System.out.printf("OverheadBenchmark: mlp 8->4, batch 1, %d requests per measurement, concurrency %d, %d cores%n",
        requests, concurrency, Runtime.getRuntime().availableProcessors());
    try (OrtEnvironment env = OrtEnvironment.getEnvironment();
        OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      options.setIntraOpNumThreads(1);
      options.setInterOpNumThreads(1);
      try (OrtSession session = env.createSession(mlp.onnx(), options);
          TestServer server = TestServer.start(repo)) {
        ModelInferRequest request = InferRequests.rawFp32("mlp", "1", Mlp.INPUT, x, 1, 8);
        GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub stub = server.blocking()
            .withDeadlineAfter(1, TimeUnit.HOURS);
        for (int r = 1; r <= repeats; r++) {
          Result ortOne = measure(requests, 1, () -> runOrt(env, session, x));
          Result grpcFloor = measure(requests, 1, () -> stub.serverLive(ServerLiveRequest.getDefaultInstance()));
          Result junctionOne = measure(requests, 1, () -> stub.modelInfer(request));
          Result ortMany = measure(requests, concurrency, () -> runOrt(env, session, x));
          Result junctionMany = measure(requests, concurrency, () -> stub.modelInfer(request));
          System.out.printf("run %d | c=1: ORT p50 %.1f us p99 %.1f us %.0f/s | gRPC floor (ServerLive) p50 %.1f us"
                  + " | Junction p50 %.1f us p99 %.1f us %.0f/s | added p50 %.1f us (%.1f us beyond the gRPC floor)"
                  + " | c=%d: ORT %.0f/s Junction %.0f/s ratio %.2f%n",
              r, ortOne.p50(), ortOne.p99(), ortOne.throughput, grpcFloor.p50(), junctionOne.p50(), junctionOne.p99(),
              junctionOne.throughput, junctionOne.p50() - ortOne.p50(), junctionOne.p50() - grpcFloor.p50(), concurrency, ortMany.throughput,
              junctionMany.throughput, junctionMany.throughput / ortMany.throughput);
        }
      }
    }
  }

  private static void runOrt(OrtEnvironment env, OrtSession session, float[] x) {
    // The same work a server does per request: a direct buffer in, one copy out.
    ByteBuffer in = ByteBuffer.allocateDirect(x.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    in.asFloatBuffer().put(x);
    try (OnnxTensor t = OnnxTensor.createTensor(env, in.asFloatBuffer(), new long[] {1, 8});
        OrtSession.Result r = session.run(Map.of(Mlp.INPUT, t))) {
      FloatBuffer out = ((OnnxTensor) r.get(0)).getFloatBuffer();
      if (out.remaining() != 4) {
        throw new IllegalStateException("unexpected output size " + out.remaining());
      }
    } catch (ai.onnxruntime.OrtException e) {
      throw new IllegalStateException(e);
    }
  }

  record Result(Histogram latency, double throughput) {
    double p50() {
      return latency.getValueAtPercentile(50) / 1000.0;
    }

    double p99() {
      return latency.getValueAtPercentile(99) / 1000.0;
    }
  }

  private static Result measure(int requests, int concurrency, Runnable call) throws Exception {
    for (int i = 0; i < Math.min(2000, requests / 5); i++) {
      call.run(); // warm-up: JIT, connection, allocator
    }
    ExecutorService pool = Executors.newFixedThreadPool(concurrency);
    List<Future<Histogram>> parts = new ArrayList<>();
    int perThread = requests / concurrency;
    long start = System.nanoTime();
    for (int t = 0; t < concurrency; t++) {
      parts.add(pool.submit(() -> {
        Histogram h = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);
        for (int i = 0; i < perThread; i++) {
          long s = System.nanoTime();
          call.run();
          h.recordValue(System.nanoTime() - s);
        }
        return h;
      }));
    }
    Histogram all = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);
    for (Future<Histogram> f : parts) {
      all.add(f.get());
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    pool.shutdown();
    return new Result(all, perThread * concurrency / seconds);
  }
}
