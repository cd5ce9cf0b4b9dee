package io.junction.server.it;

import static io.junction.server.InferRequests.floats;
import static io.junction.server.InferRequests.rawFp32;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.junction.proto.inference.ModelInferRequest;
import io.junction.proto.inference.ModelInferResponse;
import io.junction.server.TestServer;
import io.junction.server.config.ServerConfig;
import io.junction.testkit.DeepMlp;
import io.junction.testkit.DemoRepository;
import io.junction.testkit.FixtureModels;
import io.junction.testkit.ModelRepositoryWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Shadow traffic is compared and recorded, and never touches the caller's answer. */
class ShadowTest {
  @TempDir Path dir;

  private static String routes(String shadowModel, String shadowVersion) {
    return """
        routes:
          - name: scorer
            variants:
              - { name: stable, model: mlp, version: 1, weight: 100 }
            shadow: { model: %s, version: "%s", fraction: 1.0 }
        """.formatted(shadowModel, shadowVersion);
  }

  @Test
  void aFailingShadowIsInvisibleToTheCaller() throws Exception {
    Path repo = DemoRepository.write(dir.resolve("repo"));
    new ModelRepositoryWriter(repo).model("broken", 1, FixtureModels.failingAtRuntime());
    Path routes = Files.writeString(dir.resolve("routes.yaml"), routes("broken", "1"));
    try (TestServer server = TestServer.start(ServerConfig.loopback(repo).withRoutesFile(routes))) {
      float[] x = {1, -2, 3, -4, 5, -6, 7, -8};
      for (int i = 0; i < 50; i++) {
        ModelInferResponse r = server.blocking().modelInfer(rawFp32("scorer", "", "x", x, 1, 8));
        DemoRepositoryEndToEndTest.assertClose(floats(r, 0), DemoRepository.mlp(1).expected(x, 1));
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> server.metric(
          "junction_shadow_duration_seconds_count{model=\"broken\",outcome=\"failure\",route=\"scorer\"}", 0) >= 50);
    }
  }

  @Test
  void aShadowIsComparedWithThePrimary() throws Exception {
    Path repo = DemoRepository.write(dir.resolve("repo"));
    Path routes = Files.writeString(dir.resolve("routes.yaml"), routes("mlp", "2"));
    try (TestServer server = TestServer.start(ServerConfig.loopback(repo).withRoutesFile(routes))) {
      for (int i = 0; i < 40; i++) {
        float[] x = new float[16];
        Arrays.fill(x, i * 0.1f - 2);
        assertThat(server.blocking().modelInfer(rawFp32("scorer", "", "x", x, 2, 8)).getModelVersion()).isEqualTo("1");
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> server.metric(
          "junction_shadow_max_abs_diff_count{model=\"mlp\",route=\"scorer\"}", 0) >= 40);
      double agreed = server.metric("junction_shadow_argmax_rows_total{agree=\"true\",model=\"mlp\",route=\"scorer\"}", 0);
      double disagreed = server.metric("junction_shadow_argmax_rows_total{agree=\"false\",model=\"mlp\",route=\"scorer\"}", 0);
      assertThat(agreed + disagreed).as("two rows per request compared").isEqualTo(80);
      assertThat(server.metric("junction_shadow_max_abs_diff_sum{model=\"mlp\",route=\"scorer\"}", 0))
          .as("versions 1 and 2 have different weights").isPositive();
    }
  }

  @Test
  void aSlowShadowDoesNotSlowThePrimary() throws Exception {
    Path repo = DemoRepository.write(dir.resolve("repo"));
    new ModelRepositoryWriter(repo).model("slow", 1, DeepMlp.seeded(2, 8, 2048, 2048, 4).onnx());
    ModelInferRequest request = rawFp32("scorer", "", "x", new float[8], 1, 8);
    long without;
    Path plain = Files.writeString(dir.resolve("plain.yaml"), """
        routes:
          - name: scorer
            variants:
              - { name: stable, model: mlp, version: 1, weight: 100 }
        """);
    try (TestServer server = TestServer.start(ServerConfig.loopback(repo).withRoutesFile(plain))) {
      without = medianMicros(server, request);
    }
    Path shadowed = Files.writeString(dir.resolve("routes.yaml"), routes("slow", "1"));
    try (TestServer server = TestServer.start(ServerConfig.loopback(repo).withRoutesFile(shadowed))) {
      long with = medianMicros(server, request);
      // The shadow runs after the answer and on its own instance; on 2 shared cores its compute still costs
      // the primary some CPU, hence the generous bound: what must not happen is waiting for the shadow
      // (several milliseconds per request).
      assertThat(with).as("median µs with a slow shadow vs %d without", without).isLessThan(3 * without + 1500);
      assertThat(server.metric("junction_shadow_duration_seconds_count{model=\"slow\",outcome=\"success\",route=\"scorer\"}", 0))
          .isPositive();
    }
  }

  @Test
  void aSlowShadowGetsABoundedShareAndTheRestIsDropped() throws Exception {
    Path repo = DemoRepository.write(dir.resolve("repo"));
    // One instance of a model that takes milliseconds per request: far slower than the primary.
    new ModelRepositoryWriter(repo).model("slow", 1, DeepMlp.seeded(2, 8, 2048, 2048, 2048, 4).onnx())
        .config("slow", "max_batch_size: 32\n");
    Path shadowed = Files.writeString(dir.resolve("routes.yaml"), routes("slow", "1"));
    try (TestServer server = TestServer.start(ServerConfig.loopback(repo).withRoutesFile(shadowed))) {
      // 32 rows a call: the primary's 8->4 layer barely notices, the shadow's 2048-wide layers take 32 times as long,
      // so the shadow falls behind however fast this machine's arithmetic is against its gRPC path (with one row, a
      // primary slowed by Netty's paranoid leak detection let the shadow keep up and drop nothing).
      ModelInferRequest request = rawFp32("scorer", "", "x", new float[8 * 32], 32, 8);
      ExecutorService callers = Executors.newFixedThreadPool(8);
      List<Future<?>> done = new ArrayList<>();
      for (int c = 0; c < 8; c++) {
        done.add(callers.submit(() -> {
          for (int i = 0; i < 150; i++) {
            server.blocking().modelInfer(request);
          }
          return null;
        }));
      }
      double deepest = 0;
      while (done.stream().anyMatch(f -> !f.isDone())) {
        deepest = Math.max(deepest, server.metric("junction_queue_size{model=\"slow\",version=\"1\"}", 0));
        Thread.sleep(20);
      }
      for (var f : done) {
        f.get(); // every primary call answered
      }
      callers.shutdown();
      // 1,200 mirrored calls to a shadow that cannot keep up: at most 64 on the device at once, the rest dropped.
      assertThat(deepest).as("deepest shadow queue").isLessThanOrEqualTo(64);
      assertThat(server.metric("junction_shadow_dropped_total{model=\"slow\",route=\"scorer\"}", 0)).isPositive();
      assertThat(server.metric(
          "junction_shadow_duration_seconds_count{model=\"slow\",outcome=\"success\",route=\"scorer\"}", 0))
          .as("shadow calls that ran").isPositive();
    }
  }

  private static long medianMicros(TestServer server, ModelInferRequest request) {
    for (int i = 0; i < 100; i++) {
      server.blocking().modelInfer(request); // warm up
    }
    long[] t = new long[200];
    for (int i = 0; i < t.length; i++) {
      long s = System.nanoTime();
      server.blocking().modelInfer(request);
      t[i] = (System.nanoTime() - s) / 1000;
    }
    Arrays.sort(t);
    return t[t.length / 2];
  }
}
