package io.junction.server.bench;

import io.junction.proto.inference.GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub;
import io.junction.proto.inference.ModelInferRequest;
import io.junction.server.InferRequests;
import io.junction.server.TestServer;
import io.junction.server.config.ModelControl;
import io.junction.server.config.ServerConfig;
import io.junction.testkit.DeepMlp;
import io.junction.testkit.ModelRepositoryWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Models paged in and out of a memory budget: load latency of a first (cold) request against a warm
 * one, and throughput of random traffic over 10 models when the budget holds all of them against one
 * that holds 3. Model: MLP 256→1024→256 (~2 MB of weights). Run on demand:
 * {@code mvn -q -B install -DskipTests && mvn -q -B -pl server exec:java -Dexec.classpathScope=test
 * -Dexec.mainClass=io.junction.server.bench.PagingBenchmark -Dexec.args="3 4000"}
 * (arguments: repeats, milliseconds per throughput point).
 */
public final class PagingBenchmark {
  private static final int MODELS = 10;

  private PagingBenchmark() {}

  public static void main(String[] args) throws Exception {
    int repeats = args.length > 0 ? Integer.parseInt(args[0]) : 3;
    long millis = args.length > 1 ? Long.parseLong(args[1]) : 4000;
    Path repo = Files.createTempDirectory("junction-paging-bench-");
    ModelRepositoryWriter writer = new ModelRepositoryWriter(repo);
    for (int i = 0; i < MODELS; i++) {
      writer.model("m" + i, 1, DeepMlp.seeded(i, 256, 1024, 256).onnx()).config("m" + i, "max_batch_size: 8\n");
    }
    long size = Files.size(repo.resolve("m0/1/model.onnx"));
    System.out.printf("PagingBenchmark: %d cores, %d models of %d bytes, %d repeats%n",
        Runtime.getRuntime().availableProcessors(), MODELS, size, repeats);
    ModelInferRequest[] requests = new ModelInferRequest[MODELS];
    for (int i = 0; i < MODELS; i++) {
      requests[i] = InferRequests.rawFp32("m" + i, "", "x", InferRequests.ramp(256, 0.01f), 1, 256);
    }
    for (int r = 1; r <= repeats; r++) {
      double fits;
      String line;
      try (TestServer server = TestServer.start(budget(repo, size * MODELS + size / 2))) {
        GRPCInferenceServiceBlockingStub stub = server.blocking().withDeadlineAfter(1, TimeUnit.HOURS);
        long[] cold = new long[MODELS];
        long[] warm = new long[MODELS];
        for (int i = 0; i < MODELS; i++) {
          ModelInferRequest request = requests[i];
          cold[i] = time(() -> stub.modelInfer(request));
          warm[i] = time(() -> stub.modelInfer(request));
        }
        Arrays.sort(cold);
        Arrays.sort(warm);
        fits = randomTraffic(stub, requests, millis);
        line = String.format("run %d | first request (load) p50 %.1f ms, max %.1f ms | warm p50 %.2f ms | "
                + "random traffic, all 10 fit: %.0f/s", r, cold[MODELS / 2] / 1e6, cold[MODELS - 1] / 1e6,
            warm[MODELS / 2] / 1e6, fits);
      }
      try (TestServer server = TestServer.start(budget(repo, size * 3 + size / 2))) {
        GRPCInferenceServiceBlockingStub stub = server.blocking().withDeadlineAfter(1, TimeUnit.HOURS);
        double tight = randomTraffic(stub, requests, millis);
        String metrics = new String(server.server().metricsScrape(), StandardCharsets.UTF_8);
        String evictions = metrics.lines().filter(l -> l.startsWith("junction_model_evictions_total"))
            .map(l -> l.substring(l.lastIndexOf(' ') + 1)).findFirst().orElse("?");
        System.out.printf("%s | 3 of 10 fit: %.0f/s (%.3f of all fitting, %s evictions)%n", line, tight, tight / fits,
            evictions);
      }
    }
  }

  private static ServerConfig budget(Path repo, long bytes) {
    return ServerConfig.loopback(repo).withControl(ModelControl.NONE.withBudget(bytes, Set.of()));
  }

  private static double randomTraffic(GRPCInferenceServiceBlockingStub stub, ModelInferRequest[] requests, long millis)
      throws Exception {
    ThreadLocal<SplittableRandom> random = ThreadLocal.withInitial(() -> new SplittableRandom(Thread.currentThread().getId()));
    return ClosedLoop.run(8, millis / 4, millis,
        () -> stub.modelInfer(requests[random.get().nextInt(requests.length)])).callsPerSecond();
  }

  private static long time(Runnable call) {
    long start = System.nanoTime();
    call.run();
    return System.nanoTime() - start;
  }
}
