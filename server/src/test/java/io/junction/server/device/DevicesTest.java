package io.junction.server.device;

import static io.junction.server.InferRequests.floats;
import static io.junction.server.InferRequests.rawFp32;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.junction.proto.inference.ModelConfigRequest;
import io.junction.proto.inference.ModelInstanceGroup;
import io.junction.proto.inference.ModelReadyRequest;
import io.junction.proto.inference.RepositoryIndexRequest;
import io.junction.proto.inference.RepositoryIndexResponse.ModelIndex;
import io.junction.server.JunctionServer;
import io.junction.server.TestServer;
import io.junction.server.backend.BackendRegistry;
import io.junction.server.backend.onnx.OnnxBackend;
import io.junction.server.config.DeviceConfig;
import io.junction.server.config.ModelControl;
import io.junction.server.config.ServerConfig;
import io.junction.server.telemetry.Telemetry;
import io.junction.testkit.Mlp;
import io.junction.testkit.ModelRepositoryWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Devices over the wire: a server with two fake GPUs (a backend whose copies are real ONNX Runtime
 * sessions, loaded "on" a device and counting what each device ran), models placed by their instance
 * groups, each device with its own fair slots.
 */
class DevicesTest {
  private static final List<Device> TWO_GPUS = List.of(new Device(DeviceId.gpu(0), "Fake GPU 0", 16L << 30),
      new Device(DeviceId.gpu(1), "Fake GPU 1", 16L << 30));
  private static final Mlp MLP = Mlp.seeded(8, 4, 5);

  @TempDir Path repo;
  private final FakeGpuBackend fake = new FakeGpuBackend();

  private TestServer start(List<Device> devices, int gpuSlots) throws Exception {
    ServerConfig config = ServerConfig.loopback(repo).withDevices(new DeviceConfig(gpuSlots, Optional.of(devices)));
    return TestServer.start(new JunctionServer(config, new BackendRegistry(List.of(new OnnxBackend(), fake)),
        Telemetry.disabled()));
  }

  private ModelRepositoryWriter model(String name, String config) throws Exception {
    return new ModelRepositoryWriter(repo).model(name, 1, MLP.onnx()).config(name, config);
  }

  private static String fakeGpu(String rest) {
    return "platform: \"" + FakeGpuBackend.PLATFORM + "\"\nmax_batch_size: 8\n" + rest;
  }

  @Test
  void instanceGroupsPlaceCopiesOnTheirGpusAndBothAnswer() throws Exception {
    model("on_both", fakeGpu("instance_group [ { kind: KIND_GPU gpus: [ 0, 1 ] count: 2 } ]\n"));
    model("on_gpu1", fakeGpu("instance_group [ { kind: KIND_GPU gpus: [ 1 ] } ]\n"));
    model("auto", fakeGpu(""));
    model("cpu_model", "max_batch_size: 8\ninstance_group [ { kind: KIND_CPU count: 2 } ]\n");
    try (TestServer server = start(TWO_GPUS, 2)) {
      assertThat(fake.loadedOn.get("on_both")).containsExactlyInAnyOrder(DeviceId.gpu(0), DeviceId.gpu(1));
      assertThat(fake.loadedOn.get("on_gpu1")).containsExactly(DeviceId.gpu(1));
      assertThat(fake.loadedOn.get("auto")).as("no group: every GPU").containsExactlyInAnyOrder(DeviceId.gpu(0),
          DeviceId.gpu(1));
      assertThat(fake.loadedOn).doesNotContainKey("cpu_model");

      List<ModelInstanceGroup> auto = server.blocking().modelConfig(ModelConfigRequest.newBuilder().setName("auto")
          .build()).getConfig().getInstanceGroupList();
      assertThat(auto).singleElement().satisfies(g -> {
        assertThat(g.getKind()).isEqualTo(ModelInstanceGroup.Kind.KIND_GPU);
        assertThat(g.getGpusList()).containsExactly(0, 1);
      });

      // Concurrent calls spread over both GPUs, and every answer is the model's.
      ExecutorService callers = Executors.newFixedThreadPool(8);
      try {
        List<CompletableFuture<float[]>> answers = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
          float[] x = {i, 1, -2, 3, 0.5f, -1, 2, i % 3};
          answers.add(CompletableFuture.supplyAsync(() -> floats(server.blocking().modelInfer(
              rawFp32("on_both", "1", "x", x, 1, 8)), 0), callers));
        }
        for (int i = 0; i < 64; i++) {
          float[] expected = MLP.expected(new float[] {i, 1, -2, 3, 0.5f, -1, 2, i % 3}, 1);
          float[] actual = answers.get(i).get(30, TimeUnit.SECONDS);
          for (int j = 0; j < expected.length; j++) {
            assertThat(actual[j]).isCloseTo(expected[j], within(1e-4f));
          }
        }
      } finally {
        callers.shutdownNow();
      }
      assertThat(fake.executions.get(DeviceId.gpu(0)).get()).as("gpu:0 executions").isPositive();
      assertThat(fake.executions.get(DeviceId.gpu(1)).get()).as("gpu:1 executions").isPositive();
      server.blocking().modelInfer(rawFp32("cpu_model", "1", "x", new float[8], 1, 8));

      String metrics = scrape(server);
      assertThat(metrics).contains("junction_device_slots{device=\"gpu:0\"} 2.0", "junction_device_slots{device=\"gpu:1\"} 2.0",
          "junction_device_info{device=\"gpu:1\",name=\"Fake GPU 1\"} 1.0", "junction_device_info{device=\"cpu\",name=\"cpu\"} 1.0");
    }
  }

  @Test
  void aModelAskingForAGpuThatIsNotThereDoesNotLoadAndSaysWhy() throws Exception {
    model("missing_gpu", fakeGpu("instance_group [ { kind: KIND_GPU gpus: [ 2 ] } ]\n"));
    model("onnx_on_gpu", "max_batch_size: 8\ninstance_group [ { kind: KIND_GPU gpus: [ 0 ] } ]\n");
    model("fine", fakeGpu("instance_group [ { kind: KIND_GPU gpus: [ 0 ] } ]\n"));
    try (TestServer server = start(TWO_GPUS, 2)) {
      List<ModelIndex> index = server.blocking().repositoryIndex(RepositoryIndexRequest.getDefaultInstance())
          .getModelsList();
      assertThat(reason(index, "missing_gpu")).isEqualTo("model 'missing_gpu' version 1: instance_group asks for GPU 2, "
          + "which this server does not have (devices: [cpu, gpu:0, gpu:1])");
      assertThat(reason(index, "onnx_on_gpu")).contains("backend 'onnxruntime' runs models on the CPU only")
          .contains("not run on the CPU instead");
      assertThat(server.blocking().modelReady(ModelReadyRequest.newBuilder().setName("missing_gpu").build()).getReady())
          .isFalse();
      assertThatThrownBy(() -> server.blocking().modelInfer(rawFp32("missing_gpu", "", "x", new float[8], 1, 8)))
          .isInstanceOfSatisfying(StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
      assertThat(fake.loadedOn).doesNotContainKey("missing_gpu");
      server.blocking().modelInfer(rawFp32("fine", "", "x", new float[8], 1, 8));
    }
  }

  @Test
  void aCpuOnlyServerRefusesGpuModelsRatherThanRunningThemOnTheCpu() throws Exception {
    model("wants_gpu", fakeGpu("instance_group [ { kind: KIND_GPU } ]\n"));
    model("auto", fakeGpu(""));
    try (TestServer server = start(List.of(), 2)) {
      List<ModelIndex> index = server.blocking().repositoryIndex(RepositoryIndexRequest.getDefaultInstance())
          .getModelsList();
      assertThat(reason(index, "wants_gpu")).contains("asks for KIND_GPU, but this server has no GPU (devices: [cpu])");
      assertThat(fake.loadedOn.get("auto")).as("KIND_AUTO without GPUs: the CPU").containsExactly(DeviceId.CPU);
      server.blocking().modelInfer(rawFp32("auto", "", "x", new float[8], 1, 8));
    }
  }

  @Test
  void eachDeviceHasItsOwnSlotsAndSharesThemFairly() throws Exception {
    // gpu:0 (one slot) runs a hot model whose executions take 1.5 s, four of them queued, and a cold one;
    // gpu:1 (one slot) runs another model.
    model("hot", fakeGpu("instance_group [ { kind: KIND_GPU gpus: [ 0 ] count: 4 } ]\n"
        + "parameters { key: \"" + FakeGpuBackend.EXECUTION_MILLIS + "\" value: { string_value: \"1500\" } }\n"));
    model("cold", fakeGpu("instance_group [ { kind: KIND_GPU gpus: [ 0 ] } ]\n"));
    model("elsewhere", fakeGpu("instance_group [ { kind: KIND_GPU gpus: [ 1 ] } ]\n"));
    try (TestServer server = start(TWO_GPUS, 1)) {
      ExecutorService callers = Executors.newFixedThreadPool(4);
      try {
        List<CompletableFuture<?>> hot = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
          hot.add(CompletableFuture.runAsync(() -> server.blocking().modelInfer(
              rawFp32("hot", "", "x", new float[8], 1, 8)), callers));
        }
        Awaitility.await().atMost(Duration.ofSeconds(10))
            .until(() -> fake.peakRunning.containsKey(DeviceId.gpu(0)));
        long start = System.nanoTime();
        server.blocking().modelInfer(rawFp32("elsewhere", "", "x", new float[8], 1, 8));
        long elsewhereMillis = (System.nanoTime() - start) / 1_000_000;
        start = System.nanoTime();
        server.blocking().modelInfer(rawFp32("cold", "", "x", new float[8], 1, 8));
        long coldMillis = (System.nanoTime() - start) / 1_000_000;
        boolean hotStillBusy = hot.stream().anyMatch(f -> !f.isDone());
        CompletableFuture.allOf(hot.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);

        // gpu:1 does not wait for gpu:0's execution in progress (up to 1.5 s) at all.
        assertThat(elsewhereMillis).as("gpu:1 call while gpu:0 is saturated, ms").isLessThan(1000);
        // On gpu:0 the cold model waits for the execution in progress, then has its turn: not for the
        // three hot executions queued before it (4.5 s more).
        assertThat(coldMillis).as("cold call on the saturated gpu:0, ms").isLessThan(3000);
        assertThat(hotStillBusy).as("the hot model's queue outlasted both calls").isTrue();
      } finally {
        callers.shutdownNow();
      }
      assertThat(fake.peakRunning.get(DeviceId.gpu(0)).get()).as("one slot on gpu:0").isEqualTo(1);
      assertThat(server.server().scheduler().devices().scheduler(DeviceId.gpu(0)).peakConcurrency()).isEqualTo(1);
    }
  }

  @Test
  void eachDeviceHasItsOwnMemoryBudget() throws Exception {
    for (String name : List.of("a", "b", "big")) {
      model(name, fakeGpu("instance_group [ { kind: KIND_GPU gpus: [ 0 ] } ]\n"));
    }
    model("d", fakeGpu("instance_group [ { kind: KIND_GPU gpus: [ 1 ] } ]\n"));
    long modelBytes = Files.size(repo.resolve("a/1/model.onnx")); // a version's files
    // "big" has twice the files of the others.
    Files.writeString(repo.resolve("big/1/padding.bin"), "x".repeat((int) (2 * modelBytes)));
    ServerConfig config = ServerConfig.loopback(repo)
        .withDevices(new DeviceConfig(2, Optional.of(TWO_GPUS)))
        .withControl(ModelControl.NONE.withBudgets(Map.of(
            DeviceId.gpu(0), modelBytes * 3 / 2, DeviceId.gpu(1), modelBytes * 10), Set.of()));
    try (TestServer server = TestServer.start(new JunctionServer(config,
        new BackendRegistry(List.of(new OnnxBackend(), fake)), Telemetry.disabled()))) {
      server.blocking().modelInfer(rawFp32("a", "", "x", new float[8], 1, 8));
      server.blocking().modelInfer(rawFp32("d", "", "x", new float[8], 1, 8));
      server.blocking().modelInfer(rawFp32("b", "", "x", new float[8], 1, 8)); // gpu:0 holds one: a goes
      List<ModelIndex> index = server.blocking().repositoryIndex(RepositoryIndexRequest.getDefaultInstance())
          .getModelsList();
      assertThat(state(index, "a")).isEqualTo("UNAVAILABLE");
      assertThat(state(index, "b")).isEqualTo("READY");
      assertThat(state(index, "d")).as("gpu:1's model stays: its budget is its own").isEqualTo("READY");

      assertThatThrownBy(() -> server.blocking().modelInfer(rawFp32("big", "", "x", new float[8], 1, 8)))
          .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
            assertThat(e.getStatus().getDescription()).contains("cannot load model 'big'").contains("on gpu:0")
                .contains("more than its whole memory budget of " + modelBytes * 3 / 2 + " bytes");
          });

      String metrics = scrape(server);
      assertThat(metrics).contains("junction_model_memory_budget_bytes{device=\"gpu:0\"} " + (double) (modelBytes * 3 / 2),
          "junction_model_evictions_total{device=\"gpu:0\"} 1.0", "junction_model_evictions_total{device=\"gpu:1\"} 0.0",
          "junction_model_memory_bytes{device=\"gpu:1\"} " + (double) modelBytes);
    }
  }

  @Test
  void aBudgetForADeviceTheServerDoesNotHaveIsRefusedAtStart() {
    ServerConfig config = ServerConfig.loopback(repo)
        .withControl(ModelControl.NONE.withBudgets(
            Map.of(DeviceId.gpu(3), 1L << 30), Set.of()));
    assertThatThrownBy(() -> TestServer.start(new JunctionServer(config,
        new BackendRegistry(List.of(new OnnxBackend(), fake)), Telemetry.disabled())).close())
        .hasMessage("--model-memory-budget names gpu:3, which this server does not have (devices: [cpu])");
  }

  private static String state(List<ModelIndex> index, String model) {
    return index.stream().filter(m -> m.getName().equals(model)).findFirst().orElseThrow().getState();
  }

  private static String reason(List<ModelIndex> index, String model) {
    return index.stream().filter(m -> m.getName().equals(model)).findFirst().orElseThrow().getReason();
  }

  private static String scrape(TestServer server) throws Exception {
    int port = server.server().httpPort().orElseThrow();
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
        .build(), HttpResponse.BodyHandlers.ofString()).body();
  }
}
