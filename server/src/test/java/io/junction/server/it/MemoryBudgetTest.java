package io.junction.server.it;

import static io.junction.server.InferRequests.floats;
import static io.junction.server.InferRequests.rawFp32;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.junction.proto.inference.ModelReadyRequest;
import io.junction.proto.inference.RepositoryIndexRequest;
import io.junction.server.TestServer;
import io.junction.server.config.ModelControl;
import io.junction.server.config.ServerConfig;
import io.junction.testkit.Mlp;
import io.junction.testkit.ModelRepositoryWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** More models than fit: a budget for 3 of 20, random traffic to all 20. */
class MemoryBudgetTest {
  private static final int MODELS = 20;
  private static final int CALLERS = 8;
  private static final int CALLS = 40;

  @TempDir Path repo;

  @Test
  void twentyModelsServeCorrectlyInABudgetForThree() throws Exception {
    ModelRepositoryWriter writer = new ModelRepositoryWriter(repo);
    List<Mlp> mlps = new ArrayList<>();
    for (int i = 0; i < MODELS; i++) {
      Mlp mlp = Mlp.seeded(16, 8, i + 1);
      mlps.add(mlp);
      writer.model("m" + i, 1, mlp.onnx()).config("m" + i, "max_batch_size: 4\n");
    }
    long modelBytes = Files.size(repo.resolve("m0/1/model.onnx"));
    long budget = modelBytes * 3 + modelBytes / 2; // three fit, a fourth does not
    ServerConfig config = ServerConfig.loopback(repo)
        .withControl(ModelControl.NONE.withBudget(budget, Set.of("m0")));
    try (TestServer server = TestServer.start(config)) {
      assertThat(server.blocking().modelReady(ModelReadyRequest.newBuilder().setName("m0").build()).getReady())
          .as("pinned models load at start").isTrue();
      assertThat(server.blocking().modelReady(ModelReadyRequest.newBuilder().setName("m5").build()).getReady())
          .as("the others load on demand").isFalse();

      ExecutorService callers = Executors.newFixedThreadPool(CALLERS);
      List<Future<Integer>> done = new ArrayList<>();
      for (int c = 0; c < CALLERS; c++) {
        int caller = c;
        done.add(callers.submit(() -> {
          SplittableRandom random = new SplittableRandom(caller);
          int ok = 0;
          for (int i = 0; i < CALLS; i++) {
            int m = random.nextInt(MODELS);
            float[] x = new float[16];
            for (int k = 0; k < x.length; k++) {
              x[k] = (float) random.nextDouble(-1, 1);
            }
            float[] y = floats(server.blocking().modelInfer(rawFp32("m" + m, "", "x", x, 1, 16)), 0);
            float[] expected = mlps.get(m).expected(x, 1);
            for (int k = 0; k < expected.length; k++) {
              assertThat(y[k]).as("model m%d element %d", m, k).isCloseTo(expected[k], within(1e-4f));
            }
            ok++;
            long resident = server.server().models().readyModels().stream().mapToLong(s -> s.footprintBytes()).sum();
            assertThat(resident).as("bytes loaded").isLessThanOrEqualTo(budget);
          }
          return ok;
        }));
      }
      int total = 0;
      for (Future<Integer> f : done) {
        total += f.get(120, TimeUnit.SECONDS);
      }
      callers.shutdown();
      assertThat(total).isEqualTo(CALLERS * CALLS);

      String metrics = scrape(server);
      double evictions = value(metrics, "junction_model_evictions_total{device=\"cpu\"}");
      assertThat(evictions).as("models were paged out").isGreaterThan(10);
      assertThat(value(metrics, "junction_model_memory_budget_bytes{device=\"cpu\"}")).isEqualTo(budget);
      assertThat(value(metrics, "junction_model_memory_bytes{device=\"cpu\"}")).isLessThanOrEqualTo(budget);
      assertThat(server.blocking().modelReady(ModelReadyRequest.newBuilder().setName("m0").build()).getReady())
          .as("pinned models are never evicted").isTrue();
      assertThat(server.blocking().repositoryIndex(RepositoryIndexRequest.getDefaultInstance()).getModelsList())
          .anySatisfy(m -> assertThat(m.getReason()).contains("evicted to stay within the memory budget"));
    }
  }

  private static String scrape(TestServer server) throws Exception {
    int port = server.server().httpPort().orElseThrow();
    return java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
            java.net.URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString()).body();
  }

  private static double value(String metrics, String series) {
    return metrics.lines().filter(l -> l.startsWith(series + " ")).map(l -> Double.parseDouble(l.substring(series.length() + 1)))
        .findFirst().orElseThrow(() -> new AssertionError("no " + series + " in /metrics"));
  }

  @Test
  void anOperatorsUnloadStaysUnloadedUntilAnOperatorsLoad() throws Exception {
    Mlp mlp = Mlp.seeded(16, 8, 1);
    new ModelRepositoryWriter(repo).model("a", 1, mlp.onnx()).config("a", "max_batch_size: 4\n");
    long budget = Files.size(repo.resolve("a/1/model.onnx")) * 4;
    ServerConfig config = ServerConfig.loopback(repo)
        .withControl(ModelControl.explicit(Set.of("*")).withBudget(budget, Set.of()));
    try (TestServer server = TestServer.start(config)) {
      float[] x = new float[16];
      assertThat(server.blocking().modelInfer(io.junction.server.InferRequests.rawFp32("a", "", "x", x, 1, 16))
          .getModelVersion()).isEqualTo("1");
      server.blocking().repositoryModelUnload(
          io.junction.proto.inference.RepositoryModelUnloadRequest.newBuilder().setModelName("a").build());
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> server.blocking().modelInfer(
              io.junction.server.InferRequests.rawFp32("a", "", "x", x, 1, 16)))
          .isInstanceOfSatisfying(io.grpc.StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.UNAVAILABLE);
            assertThat(e.getStatus().getDescription()).contains("model 'a'", "unloaded by an operator");
          });
      assertThat(server.blocking().modelReady(ModelReadyRequest.newBuilder().setName("a").build()).getReady())
          .isFalse();
      server.blocking().repositoryModelLoad(
          io.junction.proto.inference.RepositoryModelLoadRequest.newBuilder().setModelName("a").build());
      assertThat(server.blocking().modelInfer(io.junction.server.InferRequests.rawFp32("a", "", "x", x, 1, 16))
          .getModelVersion()).isEqualTo("1");
    }
  }

  @Test
  void pollModeLoadsNothingBehindTheBudgetsBack() throws Exception {
    ModelRepositoryWriter writer = new ModelRepositoryWriter(repo);
    for (String name : List.of("a", "b", "c")) {
      writer.model(name, 1, Mlp.seeded(16, 8, name.charAt(0)).onnx()).config(name, "max_batch_size: 4\n");
    }
    long modelBytes = Files.size(repo.resolve("a/1/model.onnx"));
    long budget = modelBytes + modelBytes / 2; // one model fits
    ServerConfig config = ServerConfig.loopback(repo).withControl(
        ModelControl.poll(java.time.Duration.ofMillis(100)).withBudget(budget, Set.of()));
    try (TestServer server = TestServer.start(config)) {
      float[] x = new float[16];
      server.blocking().modelInfer(io.junction.server.InferRequests.rawFp32("a", "", "x", x, 1, 16));
      // New files for models that are not loaded: polls (every 100 ms) must leave them to load on demand.
      writer.model("b", 2, Mlp.seeded(16, 8, 9).onnx()).model("c", 2, Mlp.seeded(16, 8, 10).onnx());
      Thread.sleep(1000); // ten polls
      assertThat(server.blocking().modelReady(ModelReadyRequest.newBuilder().setName("b").build()).getReady()).isFalse();
      assertThat(server.blocking().modelReady(ModelReadyRequest.newBuilder().setName("c").build()).getReady()).isFalse();
      assertThat(server.blocking().modelInfer(io.junction.server.InferRequests.rawFp32("b", "", "x", x, 1, 16))
          .getModelVersion()).isEqualTo("2");
      String metrics = new String(server.server().metricsScrape(), java.nio.charset.StandardCharsets.UTF_8);
      double resident = metrics.lines().filter(l -> l.startsWith("junction_model_memory_bytes{"))
          .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).findFirst().orElseThrow();
      assertThat(resident).as("bytes loaded").isLessThanOrEqualTo(budget);
    }
  }
}
