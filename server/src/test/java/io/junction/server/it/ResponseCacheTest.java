package io.junction.server.it;

import static io.junction.server.InferRequests.floats;
import static io.junction.server.InferRequests.input;
import static io.junction.server.InferRequests.fp32;
import static io.junction.server.InferRequests.rawFp32;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.junction.proto.inference.InferStatistics;
import io.junction.proto.inference.ModelInferRequest;
import io.junction.proto.inference.ModelInferResponse;
import io.junction.proto.inference.ModelStatistics;
import io.junction.proto.inference.ModelStatisticsRequest;
import io.junction.proto.inference.RepositoryModelLoadRequest;
import io.junction.proto.inference.RepositoryModelUnloadRequest;
import io.junction.server.LoggedLines;
import io.junction.server.TestServer;
import io.junction.server.config.ModelControl;
import io.junction.server.config.ServerConfig;
import io.junction.server.model.ModelConfigResolver;
import io.junction.testkit.FixtureModels;
import io.junction.testkit.Mlp;
import io.junction.testkit.ModelRepositoryWriter;
import io.junction.testkit.OnnxType;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Triton's response cache over the wire: a request identical to one answered before is answered from the cache
 * (the model's execution count does not move), anything that differs (contents, outputs asked for) runs the model,
 * and the statistics and metrics count hits and misses as Triton's do.
 */
class ResponseCacheTest {
  private static final String ENABLED = "max_batch_size: 16384\nresponse_cache { enable: true }\n";

  @TempDir Path repo;

  @Test
  void anIdenticalRequestIsAnsweredFromTheCacheAndAnyDifferenceRunsTheModel() throws Exception {
    new ModelRepositoryWriter(repo)
        .model("cached", 1, FixtureModels.addSub()).config("cached", ENABLED)
        .model("plain", 1, FixtureModels.addSub()).config("plain", "max_batch_size: 8\n");
    try (TestServer server = TestServer.start(ServerConfig.loopback(repo).withResponseCacheBytes(1 << 20))) {
      ModelInferRequest first = addSub("cached", new float[] {1, 2, 3}, new float[] {1, 1, 1});
      ModelInferResponse answer = server.blocking().modelInfer(first);
      awaitStored(server, "cached", 1);
      assertThat(floats(answer, 0)).containsExactly(2, 3, 4);
      assertThat(floats(answer, 1)).containsExactly(0, 1, 2);
      ModelInferResponse again = server.blocking().modelInfer(first.toBuilder().setId("second").build());
      assertThat(again.getId()).as("the answer is the request's own").isEqualTo("second");
      assertThat(again.getOutputsList()).isEqualTo(answer.getOutputsList());
      assertThat(again.getRawOutputContentsList()).isEqualTo(answer.getRawOutputContentsList());
      ModelStatistics stats = stats(server, "cached");
      assertThat(stats.getExecutionCount()).as("the model ran once").isEqualTo(1);
      assertThat(stats.getInferenceCount()).as("cache hits are not inferences").isEqualTo(1);
      InferStatistics s = stats.getInferenceStats();
      assertThat(s.getSuccess().getCount()).as("a hit is a success").isEqualTo(2);
      assertThat(s.getCacheHit().getCount()).isEqualTo(1);
      assertThat(s.getCacheMiss().getCount()).isEqualTo(1);
      assertThat(s.getComputeInfer().getCount()).isEqualTo(1);

      // Other contents, or other outputs asked for, run the model.
      ModelInferRequest otherContents = addSub("cached", new float[] {1, 2, 3}, new float[] {1, 1, 2});
      assertThat(floats(server.blocking().modelInfer(otherContents), 0)).containsExactly(2, 3, 5);
      ModelInferRequest sumOnly = first.toBuilder().addOutputs(ModelInferRequest.InferRequestedOutputTensor
          .newBuilder().setName(FixtureModels.ADD_SUB_SUM)).build();
      ModelInferResponse sum = server.blocking().modelInfer(sumOnly);
      awaitStored(server, "cached", 3);
      assertThat(sum.getOutputsList()).extracting(o -> o.getName()).containsExactly(FixtureModels.ADD_SUB_SUM);
      assertThat(stats(server, "cached").getExecutionCount()).isEqualTo(3);
      assertThat(server.blocking().modelInfer(sumOnly).getRawOutputContentsList())
          .isEqualTo(sum.getRawOutputContentsList());
      assertThat(stats(server, "cached").getExecutionCount()).as("the SUM-only answer is cached too").isEqualTo(3);

      // A model whose config does not enable the cache runs every time.
      ModelInferRequest plain = addSub("plain", new float[] {1, 2, 3}, new float[] {1, 1, 1});
      server.blocking().modelInfer(plain);
      server.blocking().modelInfer(plain);
      assertThat(stats(server, "plain").getExecutionCount()).isEqualTo(2);
      assertThat(stats(server, "plain").getInferenceStats().getCacheMiss().getCount()).isZero();

      assertThat(server.metric("nv_cache_num_hits_per_model{model=\"cached\",version=\"1\"}", -1)).isEqualTo(2.0);
      assertThat(server.metric("nv_cache_num_misses_per_model{model=\"cached\",version=\"1\"}", -1)).isEqualTo(3.0);
      assertThat(server.metric("nv_cache_num_hits_per_model{model=\"plain\",version=\"1\"}", -1))
          .as("as in Triton, only models that enable the cache have its counters").isEqualTo(-1.0);
      assertThat(server.metric("junction_response_cache_entries", -1)).isEqualTo(3.0);
      // The status page's JSON: hits and misses for the cached model's version, nothing for the other.
      HttpResponse<String> status = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
          "http://127.0.0.1:" + server.server().httpPort().orElseThrow() + "/v2/status")).build(),
          HttpResponse.BodyHandlers.ofString());
      JsonObject report = JsonParser.parseString(status.body()).getAsJsonObject();
      assertThat(version(report, "cached").getAsJsonObject("response_cache").toString())
          .isEqualTo("{\"hits\":2,\"misses\":3}");
      assertThat(version(report, "plain").has("response_cache")).isFalse();
      assertThat(server.metric("junction_response_cache_bytes{kind=\"size\"}", -1)).isEqualTo(1 << 20);
    }
  }

  /**
   * Inputs of 64 KiB and more are read into pooled buffers, reused by the next large request once a request is
   * done: cached large requests are answered right, each as its own (that the cache keeps copies, not views of
   * that memory, ResponseCacheCopiesTest shows).
   */
  @Test
  void largeRequestsReadIntoPooledBuffersAreCachedAndAnsweredRight() throws Exception {
    new ModelRepositoryWriter(repo).model("identity", 1, FixtureModels.identity(OnnxType.FLOAT))
        .config("identity", ENABLED);
    try (TestServer server = TestServer.start(ServerConfig.loopback(repo).withResponseCacheBytes(16 << 20))) {
      int rows = 16384; // 256 KiB a request
      float[][] contents = new float[6][];
      for (int k = 0; k < contents.length; k++) {
        contents[k] = filled(rows * FixtureModels.IDENTITY_COLUMNS, k * 1000f);
      }
      for (int round = 0; round < 2; round++) {
        awaitStored(server, "identity", round * contents.length);
        for (float[] c : contents) {
          ModelInferResponse r = server.blocking().modelInfer(
              rawFp32("identity", "", FixtureModels.IDENTITY_INPUT, c, rows, FixtureModels.IDENTITY_COLUMNS));
          assertThat(floats(r, 0)).as("round %d", round).containsExactly(c);
        }
      }
      assertThat(stats(server, "identity").getExecutionCount()).as("each ran once").isEqualTo(6);
      assertThat(stats(server, "identity").getInferenceStats().getCacheHit().getCount()).isEqualTo(6);
      assertThat(server.metric("junction_request_buffers_allocated_total", -1))
          .as("the requests were read into pooled buffers, a few of them reused").isBetween(1.0, 5.0);
    }
  }

  @Test
  void aReloadedVersionIsNotAnsweredWithTheAnswersOfTheCopyBeforeWhichGoWithIt() throws Exception {
    Mlp before = Mlp.seeded(8, 4, 1);
    Mlp after = Mlp.seeded(8, 4, 2);
    ModelRepositoryWriter writer = new ModelRepositoryWriter(repo).model("m", 1, before.onnx())
        .config("m", "max_batch_size: 8\nresponse_cache { enable: true }\n");
    try (TestServer server = TestServer.start(ServerConfig.loopback(repo).withResponseCacheBytes(1 << 20)
        .withControl(ModelControl.explicit(Set.of("*"))).withOpenRepositoryApi())) {
      float[] x = {1, 2, 3, 4, 5, 6, 7, 8};
      ModelInferRequest request = rawFp32("m", "", "x", x, 1, 8);
      assertClose(floats(server.blocking().modelInfer(request), 0), before.expected(x, 1));
      awaitStored(server, "m", 1);
      assertClose(floats(server.blocking().modelInfer(request), 0), before.expected(x, 1));
      assertThat(stats(server, "m").getInferenceStats().getCacheHit().getCount()).isEqualTo(1);

      assertThat(server.metric("junction_response_cache_entries", -1)).isEqualTo(1.0);

      writer.model("m", 1, after.onnx()); // new weights, same version number
      server.blocking().repositoryModelLoad(RepositoryModelLoadRequest.newBuilder().setModelName("m").build());
      assertThat(server.metric("junction_response_cache_entries", -1))
          .as("the answers of the copy before are dropped with it, not left to be evicted").isEqualTo(0.0);
      assertClose(floats(server.blocking().modelInfer(request), 0), after.expected(x, 1));
      assertThat(stats(server, "m").getExecutionCount()).as("the reloaded copy ran").isEqualTo(1);

      awaitStored(server, "m", 1);
      assertThat(server.metric("junction_response_cache_entries", -1)).isEqualTo(1.0);
      server.blocking().repositoryModelUnload(RepositoryModelUnloadRequest.newBuilder().setModelName("m").build());
      assertThat(server.metric("junction_response_cache_entries", -1)).as("an unloaded model's answers go with it")
          .isEqualTo(0.0);
    }
  }

  @Test
  void theCacheKeepsToItsSize() throws Exception {
    new ModelRepositoryWriter(repo).model("identity", 1, FixtureModels.identity(OnnxType.FLOAT))
        .config("identity", ENABLED);
    int size = 64 * 1024;
    try (TestServer server = TestServer.start(ServerConfig.loopback(repo).withResponseCacheBytes(size))) {
      // Each entry holds ~8 KiB (4 KiB of input, 4 KiB of output): 40 of them are five times the cache.
      for (int i = 0; i < 40; i++) {
        server.blocking().modelInfer(rawFp32("identity", "", FixtureModels.IDENTITY_INPUT, filled(1024, i), 256,
            FixtureModels.IDENTITY_COLUMNS));
      }
      assertThat(server.metric("junction_response_cache_bytes{kind=\"used\"}", -1)).isBetween(1.0, (double) size);
      assertThat(server.metric("junction_response_cache_evictions_total", -1)).isGreaterThanOrEqualTo(25.0);

      // An answer larger than the whole cache is not kept: it would only push everything else out.
      float[] big = filled(64 * 1024, 7);
      for (int i = 0; i < 2; i++) {
        server.blocking().modelInfer(rawFp32("identity", "", FixtureModels.IDENTITY_INPUT, big, 16 * 1024,
            FixtureModels.IDENTITY_COLUMNS));
      }
      assertThat(stats(server, "identity").getExecutionCount()).isEqualTo(42);
    }
  }

  @Test
  void aFullCacheKeepsTheAnswerToALargeRequestFromItsSecondMiss() throws Exception {
    new ModelRepositoryWriter(repo).model("identity", 1, FixtureModels.identity(OnnxType.FLOAT))
        .config("identity", ENABLED);
    try (TestServer server = TestServer.start(ServerConfig.loopback(repo).withResponseCacheBytes(256 * 1024))) {
      // 16 KiB requests (4,096 floats) and answers: some 33 KiB an entry, so seven or eight fill the cache.
      int sent = 0;
      while (server.metric("junction_response_cache_deferred_total", -1) == 0 && sent < 20) {
        server.blocking().modelInfer(large(sent++));
        awaitStored(server, "identity", sent);
      }
      assertThat(sent).as("requests until the full cache kept one no more").isBetween(7, 12);
      assertThat(server.metric("junction_response_cache_evictions_total", -1)).isZero();

      ModelInferRequest declined = large(sent - 1);
      server.blocking().modelInfer(declined);
      awaitStored(server, "identity", sent + 1);
      assertThat(server.metric("junction_response_cache_evictions_total", -1)).as("kept on its second miss")
          .isPositive();
      long executions = stats(server, "identity").getExecutionCount();
      server.blocking().modelInfer(declined);
      assertThat(stats(server, "identity").getExecutionCount()).as("answered from the cache on its third call")
          .isEqualTo(executions);
    }
  }

  private static ModelInferRequest large(int seed) {
    return rawFp32("identity", "", FixtureModels.IDENTITY_INPUT, filled(4096, seed * 1000), 1024,
        FixtureModels.IDENTITY_COLUMNS);
  }

  @Test
  void aModelThatEnablesTheCacheOnAServerWithoutOneRunsAndSaysSo() throws Exception {
    new ModelRepositoryWriter(repo).model("cached", 1, FixtureModels.addSub()).config("cached", ENABLED);
    try (LoggedLines warnings = LoggedLines.of(ModelConfigResolver.class); TestServer server = TestServer.start(repo)) {
      assertThat(warnings.messages()).contains("model 'cached' version 1: "
          + "config.pbtxt enables response_cache, but the server has no response cache (--response-cache-bytes): "
          + "its answers are not cached");
      ModelInferRequest request = addSub("cached", new float[] {1, 2, 3}, new float[] {1, 1, 1});
      server.blocking().modelInfer(request);
      server.blocking().modelInfer(request);
      assertThat(stats(server, "cached").getExecutionCount()).isEqualTo(2);
    }
  }

  /**
   * Waits until {@code misses} answers of the model have gone into the cache: each is stored after it has been sent,
   * so an identical request sent the moment the answer arrives may come first, and run the model again.
   */
  private static void awaitStored(TestServer server, String model, long misses) {
    Awaitility.await(misses + " answers of " + model + " stored").atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(1))
        .until(() -> stats(server, model).getInferenceStats().getCacheMiss().getCount(), n -> n >= misses);
  }

  private static JsonObject version(JsonObject report, String model) {
    for (var m : report.getAsJsonArray("models")) {
      if (m.getAsJsonObject().get("name").getAsString().equals(model)) {
        return m.getAsJsonObject().getAsJsonArray("versions").get(0).getAsJsonObject();
      }
    }
    throw new AssertionError("no model " + model + " in " + report);
  }

  private static void assertClose(float[] actual, float[] expected) {
    assertThat(actual).containsExactly(expected, org.assertj.core.data.Offset.offset(1e-4f));
  }

  private static ModelInferRequest addSub(String model, float[] a, float[] b) {
    return ModelInferRequest.newBuilder().setModelName(model)
        .addInputs(input(FixtureModels.ADD_SUB_INPUT_A, "FP32", 1, FixtureModels.ADD_SUB_COLUMNS))
        .addInputs(input(FixtureModels.ADD_SUB_INPUT_B, "FP32", 1, FixtureModels.ADD_SUB_COLUMNS))
        .addRawInputContents(fp32(a)).addRawInputContents(fp32(b)).build();
  }

  private static ModelStatistics stats(TestServer server, String model) {
    return server.blocking().modelStatistics(ModelStatisticsRequest.newBuilder().setName(model).build())
        .getModelStats(0);
  }

  private static float[] filled(int n, float value) {
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = value + i % 97;
    }
    return x;
  }
}
