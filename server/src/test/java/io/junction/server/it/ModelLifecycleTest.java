package io.junction.server.it;

import static io.junction.server.InferRequests.floats;
import static io.junction.server.InferRequests.rawFp32;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.junction.proto.inference.ModelInferResponse;
import io.junction.proto.inference.ModelReadyRequest;
import io.junction.proto.inference.RepositoryIndexRequest;
import io.junction.proto.inference.RepositoryIndexResponse.ModelIndex;
import io.junction.proto.inference.RepositoryModelLoadRequest;
import io.junction.server.TestServer;
import io.junction.server.config.ModelControl;
import io.junction.server.config.ServerConfig;
import io.junction.testkit.DemoRepository;
import io.junction.testkit.FixtureModels;
import io.junction.testkit.ImageClassifier;
import io.junction.testkit.Mlp;
import io.junction.testkit.ModelRepositoryWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Model control modes, polling, version swaps under load and warm-up, over the wire. */
class ModelLifecycleTest {
  private static final Duration POLL = Duration.ofMillis(200);

  @TempDir Path repo;

  @Test
  void pollModeFollowsTheRepository() throws Exception {
    ModelRepositoryWriter writer = new ModelRepositoryWriter(repo)
        .model("a", 1, Mlp.seeded(4, 2, 1).onnx()).config("a", "max_batch_size: 4\nversion_policy: { all {} }\n");
    try (TestServer server = TestServer.start(ServerConfig.loopback(repo).withControl(ModelControl.poll(POLL)))) {
      writer.model("b", 1, Mlp.seeded(4, 2, 2).onnx());
      await().atMost(Duration.ofSeconds(10)).until(() -> ready(server, "b", ""));

      writer.model("a", 2, Mlp.seeded(4, 2, 3).onnx());
      await().atMost(Duration.ofSeconds(10)).until(() -> ready(server, "a", "2"));
      assertThat(ready(server, "a", "1")).isTrue();

      delete(repo.resolve("b"));
      await().atMost(Duration.ofSeconds(10)).until(() -> !ready(server, "b", ""));
      assertThat(index(server)).extracting(ModelIndex::getName).doesNotContain("b");
      assertThatThrownBy(() -> server.blocking().modelInfer(rawFp32("b", "", "x", new float[4], 1, 4)))
          .isInstanceOfSatisfying(StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));

      // A broken model fails alone and is retried by the next poll once fixed.
      writer.file("c", "1/model.onnx", "not onnx".getBytes(StandardCharsets.UTF_8));
      await().atMost(Duration.ofSeconds(10)).until(() -> index(server).stream()
          .anyMatch(m -> m.getName().equals("c") && m.getReason().contains("ONNX Runtime cannot load")));
      assertThat(ready(server, "a", "")).isTrue();
      writer.model("c", 1, Mlp.seeded(4, 2, 4).onnx());
      await().atMost(Duration.ofSeconds(10)).until(() -> ready(server, "c", "1"));
    }
  }

  @Test
  void explicitModeLoadsOnlyWhatItIsTold() throws Exception {
    DemoRepository.write(repo);
    try (TestServer server = TestServer.start(ServerConfig.loopback(repo)
        .withControl(ModelControl.explicit(Set.of("mlp"))).withOpenRepositoryApi())) {
      assertThat(ready(server, "mlp", "")).isTrue();
      assertThat(ready(server, "add_sub", "")).isFalse();
      assertThat(index(server)).anySatisfy(m -> {
        assertThat(m.getName()).isEqualTo("add_sub");
        assertThat(m.getState()).isEqualTo("UNAVAILABLE");
        assertThat(m.getReason()).isEqualTo("not loaded");
      });
      server.blocking().repositoryModelLoad(RepositoryModelLoadRequest.newBuilder().setModelName("add_sub").build());
      assertThat(ready(server, "add_sub", "")).isTrue();
    }
    try (TestServer none = TestServer.start(repo)) {
      assertThat(ready(none, "add_sub", "")).as("none mode loads everything").isTrue();
      assertThatThrownBy(() -> none.blocking().repositoryModelLoad(
          RepositoryModelLoadRequest.newBuilder().setModelName("mlp").build()))
          .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
            assertThat(e.getStatus().getDescription()).contains("model 'mlp'", "--model-control-mode explicit", "none mode");
          });
    }
  }

  @Test
  void aVersionSwapUnderSixteenCallersLosesNoRequest() throws Exception {
    Mlp v1 = Mlp.seeded(8, 4, 1);
    Mlp v2 = Mlp.seeded(8, 4, 2);
    ModelRepositoryWriter writer = new ModelRepositoryWriter(repo).model("m", 1, v1.onnx())
        .config("m", "max_batch_size: 8\ndynamic_batching { }\n");
    try (TestServer server = TestServer.start(ServerConfig.loopback(repo)
        .withControl(ModelControl.explicit(Set.of("*"))).withOpenRepositoryApi())) {
      AtomicBoolean running = new AtomicBoolean(true);
      ExecutorService callers = Executors.newFixedThreadPool(16);
      List<Future<int[]>> results = new ArrayList<>();
      for (int c = 0; c < 16; c++) {
        int caller = c;
        results.add(callers.submit(() -> {
          int[] seen = new int[3];
          float[] x = new float[8];
          while (running.get()) {
            x[0] = caller;
            ModelInferResponse r = server.blocking().modelInfer(rawFp32("m", "", "x", x, 1, 8));
            int version = Integer.parseInt(r.getModelVersion());
            Mlp expected = version == 1 ? v1 : v2;
            float[] y = floats(r, 0);
            float[] want = expected.expected(x, 1);
            for (int k = 0; k < want.length; k++) {
              assertThat(y[k]).isCloseTo(want[k], Assertions.within(1e-4f));
            }
            seen[version]++;
          }
          return seen;
        }));
      }
      Thread.sleep(300);
      writer.model("m", 2, v2.onnx()); // latest 1: version 2 replaces version 1
      server.blocking().repositoryModelLoad(RepositoryModelLoadRequest.newBuilder().setModelName("m").build());
      Thread.sleep(300);
      running.set(false);
      int[] total = new int[3];
      for (Future<int[]> f : results) {
        int[] seen = f.get(30, TimeUnit.SECONDS); // a failed call would surface here
        total[1] += seen[1];
        total[2] += seen[2];
      }
      callers.shutdown();
      assertThat(total[1]).as("answers from version 1 before the swap").isPositive();
      assertThat(total[2]).as("answers from version 2 after the swap").isPositive();
      assertThat(ready(server, "m", "1")).isFalse();
      assertThat(ready(server, "m", "2")).isTrue();
    }
  }

  @Test
  void warmupRunsBeforeTrafficAndABadSampleFailsTheLoad() throws Exception {
    new ModelRepositoryWriter(repo)
        .model("warm", 1, Mlp.seeded(8, 4, 1).onnx()).config("warm", """
            max_batch_size: 8
            model_warmup [ { name: "zeros" batch_size: 4 count: 2
                             inputs { key: "x" value: { data_type: TYPE_FP32 dims: [ 8 ] zero_data: true } } },
                           { name: "noise" batch_size: 1
                             inputs { key: "x" value: { data_type: TYPE_FP32 dims: [ 8 ] random_data: true } } } ]
            """)
        .model("cold", 1, Mlp.seeded(8, 4, 1).onnx()).config("cold", """
            max_batch_size: 8
            model_warmup [ { name: "wrong" batch_size: 1
                             inputs { key: "x" value: { data_type: TYPE_FP32 dims: [ 9 ] zero_data: true } } } ]
            """);
    try (TestServer server = TestServer.start(repo)) {
      assertThat(ready(server, "warm", "1")).isTrue();
      assertThat(ready(server, "cold", "1")).isFalse();
      assertThat(index(server)).anySatisfy(m -> {
        assertThat(m.getName()).isEqualTo("cold");
        assertThat(m.getReason()).contains("warmup sample 'wrong' failed");
      });
    }
  }

  @Test
  void automaticWarmupRunsSyntheticBatchesOfTheModelsShapes() throws Exception {
    new ModelRepositoryWriter(repo)
        .model("image", 1, ImageClassifier.seeded(3, 48, 192, 5, 1).onnx()).config("image", """
            max_batch_size: 8
            input [ { name: "image", data_type: TYPE_FP32, dims: [ 3, 48, 192 ] } ]
            output [ { name: "probabilities", data_type: TYPE_FP32, dims: [ 5 ] } ]
            dynamic_batching { preferred_batch_size: [ 2, 4 ] }
            """)
        .model("text", 1, FixtureModels.stringIdentity());
    ServerConfig config = ServerConfig.loopback(repo).withControl(ModelControl.NONE.withAutoWarmup(true));
    try (TestServer server = TestServer.start(config)) {
      // Zeros at batch 1, 2, 4 and 8 of [3, 48, 192], and an empty string for the text model, ran before READY.
      assertThat(ready(server, "image", "1")).isTrue();
      assertThat(ready(server, "text", "1")).isTrue();
    }
  }

  private static boolean ready(TestServer server, String model, String version) {
    return server.blocking().modelReady(ModelReadyRequest.newBuilder().setName(model).setVersion(version).build())
        .getReady();
  }

  private static List<ModelIndex> index(TestServer server) {
    return server.blocking().repositoryIndex(RepositoryIndexRequest.getDefaultInstance()).getModelsList();
  }

  private static void delete(Path dir) throws IOException {
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
