package io.junction.server.it;

import static io.junction.server.InferRequests.floats;
import static io.junction.server.InferRequests.rawFp32;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.junction.proto.inference.ModelReadyRequest;
import io.junction.proto.inference.RepositoryIndexRequest;
import io.junction.proto.inference.RepositoryModelLoadRequest;
import io.junction.proto.inference.RepositoryModelUnloadRequest;
import io.junction.server.InferRequests;
import io.junction.server.JunctionServer;
import io.junction.server.TestServer;
import io.junction.server.backend.BackendRegistry;
import io.junction.server.config.ModelControl;
import io.junction.server.config.ServerConfig;
import io.junction.server.model.Footprint;
import io.junction.server.telemetry.Telemetry;
import io.junction.testkit.Mlp;
import io.junction.testkit.ModelRepositoryWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.assertj.core.api.Assertions;
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
        .withControl(ModelControl.NONE.withBudget(budget, Set.of("m0")).withFileFootprints());
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
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString()).body();
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
        .withControl(ModelControl.explicit(Set.of("*")).withBudget(budget, Set.of()).withFileFootprints()).withOpenRepositoryApi();
    try (TestServer server = TestServer.start(config)) {
      float[] x = new float[16];
      assertThat(server.blocking().modelInfer(InferRequests.rawFp32("a", "", "x", x, 1, 16))
          .getModelVersion()).isEqualTo("1");
      server.blocking().repositoryModelUnload(
          RepositoryModelUnloadRequest.newBuilder().setModelName("a").build());
      Assertions.assertThatThrownBy(() -> server.blocking().modelInfer(
              InferRequests.rawFp32("a", "", "x", x, 1, 16)))
          .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
            assertThat(e.getStatus().getDescription()).contains("model 'a'", "unloaded by an operator");
          });
      assertThat(server.blocking().modelReady(ModelReadyRequest.newBuilder().setName("a").build()).getReady())
          .isFalse();
      server.blocking().repositoryModelLoad(
          RepositoryModelLoadRequest.newBuilder().setModelName("a").build());
      assertThat(server.blocking().modelInfer(InferRequests.rawFp32("a", "", "x", x, 1, 16))
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
        ModelControl.poll(Duration.ofMillis(100)).withBudget(budget, Set.of()).withFileFootprints());
    try (TestServer server = TestServer.start(config)) {
      float[] x = new float[16];
      server.blocking().modelInfer(InferRequests.rawFp32("a", "", "x", x, 1, 16));
      // New files for models that are not loaded: polls (every 100 ms) must leave them to load on demand.
      writer.model("b", 2, Mlp.seeded(16, 8, 9).onnx()).model("c", 2, Mlp.seeded(16, 8, 10).onnx());
      Thread.sleep(1000); // ten polls
      assertThat(server.blocking().modelReady(ModelReadyRequest.newBuilder().setName("b").build()).getReady()).isFalse();
      assertThat(server.blocking().modelReady(ModelReadyRequest.newBuilder().setName("c").build()).getReady()).isFalse();
      assertThat(server.blocking().modelInfer(InferRequests.rawFp32("b", "", "x", x, 1, 16))
          .getModelVersion()).isEqualTo("2");
      String metrics = new String(server.server().metricsScrape(), StandardCharsets.UTF_8);
      double resident = metrics.lines().filter(l -> l.startsWith("junction_model_memory_bytes{"))
          .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).findFirst().orElseThrow();
      assertThat(resident).as("bytes loaded").isLessThanOrEqualTo(budget);
    }
  }

  @Test
  void everyLoadPathGoesThroughTheBudget() throws Exception {
    ModelRepositoryWriter writer = new ModelRepositoryWriter(repo);
    for (int i = 0; i < 8; i++) {
      writer.model("m" + i, 1, Mlp.seeded(16, 8, i + 1).onnx()).config("m" + i, "max_batch_size: 4\n");
    }
    long modelBytes = Files.size(repo.resolve("m0/1/model.onnx"));
    long budget = modelBytes * 3 + modelBytes / 2; // three fit
    ServerConfig config = ServerConfig.loopback(repo)
        .withControl(ModelControl.explicit(Set.of("*")).withBudget(budget, Set.of()).withFileFootprints()).withOpenRepositoryApi();
    try (TestServer server = TestServer.start(config)) {
      assertThat(server.server().models().readyModels()).as("--load-model '*' loads what fits, no more").hasSize(3);
      for (int i = 0; i < 8; i++) {
        server.blocking().repositoryModelLoad(RepositoryModelLoadRequest.newBuilder().setModelName("m" + i).build());
        assertThat(server.blocking().modelReady(ModelReadyRequest.newBuilder().setName("m" + i).build()).getReady())
            .as("m%d after RepositoryModelLoad", i).isTrue();
        assertThat(loadedBytes(server)).as("bytes loaded after RepositoryModelLoad of m%d", i)
            .isLessThanOrEqualTo(budget);
      }
      assertThat(server.server().models().readyModels()).hasSize(3);
    }
  }

  @Test
  void aLoadThatCannotFitBesidePinnedModelsIsRefusedAndNamesThem() throws Exception {
    ModelRepositoryWriter writer = new ModelRepositoryWriter(repo);
    for (String name : List.of("p1", "p2", "other")) {
      writer.model(name, 1, Mlp.seeded(16, 8, name.hashCode()).onnx()).config(name, "max_batch_size: 4\n");
    }
    long modelBytes = Files.size(repo.resolve("p1/1/model.onnx"));
    long budget = modelBytes * 2 + modelBytes / 2; // the two pins fit, nothing beside them
    ServerConfig config = ServerConfig.loopback(repo)
        .withControl(ModelControl.explicit(Set.of()).withBudget(budget, Set.of("p1", "p2")).withFileFootprints()).withOpenRepositoryApi();
    try (TestServer server = TestServer.start(config)) {
      assertThatThrownBy(() -> server.blocking().repositoryModelLoad(
              RepositoryModelLoadRequest.newBuilder().setModelName("other").build()))
          .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
            assertThat(e.getStatus().getDescription()).contains("model 'other'", "needs " + modelBytes + " bytes",
                "memory budget of " + budget + " bytes", "p1 v1", "p2 v1", "pinned");
          });
      assertThatThrownBy(() -> server.blocking().modelInfer(InferRequests.rawFp32("other", "", "x", new float[16], 1, 16)))
          .as("a request cannot load it either")
          .isInstanceOfSatisfying(StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED));
      assertThat(server.server().models().readyModels()).extracting(m -> m.name()).containsExactlyInAnyOrder("p1", "p2");
    }
  }

  @Test
  void pinsThatCannotFitAreRefusedAtStart() throws Exception {
    ModelRepositoryWriter writer = new ModelRepositoryWriter(repo);
    for (String name : List.of("p1", "p2")) {
      writer.model(name, 1, Mlp.seeded(16, 8, name.hashCode()).onnx()).config(name, "max_batch_size: 4\n");
    }
    long modelBytes = Files.size(repo.resolve("p1/1/model.onnx"));
    ServerConfig config = ServerConfig.loopback(repo).withControl(ModelControl.NONE
        .withBudget(modelBytes + modelBytes / 2, Set.of("p1", "p2")).withFileFootprints());
    assertThatThrownBy(() -> TestServer.start(config)).hasMessageContaining("pinned models need " + 2 * modelBytes)
        .hasMessageContaining("p1 (" + modelBytes + " bytes)");
    ServerConfig missing = ServerConfig.loopback(repo).withControl(ModelControl.NONE
        .withBudget(modelBytes * 4, Set.of("p1", "nope")).withFileFootprints());
    assertThatThrownBy(() -> TestServer.start(missing)).hasMessageContaining("pinned models [nope] are not in the");
  }

  @Test
  void aLoadsMeasuredFootprintIsCountedAndShown() throws Exception {
    Mlp model = Mlp.seeded(64, 32, 7);
    new ModelRepositoryWriter(repo).model("big", 1, model.onnx()).config("big", "max_batch_size: 4\n");
    long fileBytes = Files.size(repo.resolve("big/1/model.onnx"));
    // Resident memory as a kernel would report it while a load allocates 50 MB: each reading 50 MB more.
    long grown = 50L << 20;
    AtomicLong resident = new AtomicLong(1L << 30);
    ServerConfig config = ServerConfig.loopback(repo).withControl(ModelControl.NONE.withBudget(1L << 40, Set.of("big")));
    try (TestServer server = TestServer.start(new JunctionServer(config,
        BackendRegistry.discover(), Telemetry.disabled(),
        () -> OptionalLong.of(resident.getAndAdd(grown))))) {
      Footprint footprint = server.server().models().readyModels().get(0).footprint();
      assertThat(footprint.fileBytes()).isEqualTo(fileBytes);
      assertThat(footprint.measuredBytes()).as("the growth between the readings around the load").isEqualTo(grown);
      assertShown(server, fileBytes, footprint);
    }
  }

  @Test
  void aFootprintMeasuredWithTheKernelsFiguresIsShownAsMeasured() throws Exception {
    // The real procfs: what it measures depends on the machine and on what ran before in this JVM (the
    // allocator reuses memory that unloaded models freed, and the growth reads 0: "not measured"), so this
    // checks that whatever was measured is what the budget, the metrics and the index show.
    Mlp big = Mlp.seeded(3200, 3200, 7);
    new ModelRepositoryWriter(repo).model("big", 1, big.onnx()).config("big", "max_batch_size: 4\n");
    long fileBytes = Files.size(repo.resolve("big/1/model.onnx"));
    ServerConfig config = ServerConfig.loopback(repo).withControl(ModelControl.NONE.withBudget(fileBytes * 64, Set.of("big")));
    try (TestServer server = TestServer.start(config)) {
      Footprint footprint = server.server().models().readyModels().get(0).footprint();
      assertThat(footprint.fileBytes()).isEqualTo(fileBytes);
      assertThat(footprint.measuredBytes()).isNotNegative();
      assertShown(server, fileBytes, footprint);
    }
  }

  private static void assertShown(TestServer server, long fileBytes, Footprint footprint)
      throws Exception {
    String metrics = scrape(server);
    assertThat(value(metrics, "junction_model_footprint_bytes{measure=\"files\",model=\"big\",version=\"1\"}"))
        .isEqualTo(fileBytes);
    assertThat(value(metrics, "junction_model_footprint_bytes{measure=\"resident\",model=\"big\",version=\"1\"}"))
        .isEqualTo(footprint.measuredBytes());
    assertThat(value(metrics, "junction_model_memory_bytes{device=\"cpu\"}"))
        .as("the budget counts the larger figure").isEqualTo(Math.max(fileBytes, footprint.measuredBytes()));
    assertThat(server.blocking().repositoryIndex(RepositoryIndexRequest.getDefaultInstance()).getModels(0).getReason())
        .contains("footprint: " + footprint);
  }

  private static long loadedBytes(TestServer server) {
    return server.server().models().readyModels().stream().mapToLong(m -> m.footprintBytes()).sum();
  }
}
