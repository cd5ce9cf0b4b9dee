package io.junction.server.it;

import static io.junction.server.InferRequests.rawFp32;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.junction.server.TestServer;
import io.junction.server.config.ServerConfig;
import io.junction.server.drift.DriftMonitor;
import io.junction.testkit.DemoRepository;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.StringJoiner;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Drift on synthetic data, over the wire: no drift stays below PSI 0.1; a shifted feature is flagged and named. */
class DriftTest {
  @TempDir Path dir;

  @Test
  void aShiftedFeatureIsFlaggedAndNamedAgainstAReferenceFile() throws Exception {
    Path repo = DemoRepository.write(dir.resolve("repo"));
    Random random = new Random(7);
    StringJoiner reference = new StringJoiner("\n");
    for (int i = 0; i < 2000; i++) {
      StringJoiner row = new StringJoiner(",");
      for (int f = 0; f < 8; f++) {
        row.add(Double.toString(random.nextGaussian()));
      }
      reference.add("{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1,8],\"data\":[" + row + "]}]}");
    }
    Files.writeString(repo.resolve("mlp/1/reference.jsonl"), reference.toString());
    ServerConfig config = ServerConfig.loopback(repo).withDrift(new DriftMonitor.Settings(0, 500, 3));
    try (TestServer server = TestServer.start(config)) {
      call(server, random, -1);
      // Listeners run after the answer is sent: the report catches up a moment later.
      await().atMost(Duration.ofSeconds(10)).ignoreExceptions()
          .until(() -> report(server).get("state").getAsString().equals("READY"));
      JsonObject ready = report(server);
      assertThat(ready.getAsJsonObject("reference").get("source").getAsString()).isEqualTo("reference.jsonl");
      assertThat(ready.getAsJsonObject("reference").get("calls").getAsLong()).isEqualTo(2000);

      for (int i = 0; i < 500; i++) {
        call(server, random, -1);
      }
      await().atMost(Duration.ofSeconds(10))
          .until(() -> report(server).getAsJsonObject("window").get("calls").getAsInt() == 500);
      JsonObject same = report(server);
      for (var f : same.getAsJsonArray("inputs")) {
        assertThat(f.getAsJsonObject().get("psi").getAsDouble()).as("PSI of %s without drift", f).isLessThan(0.1);
        assertThat(f.getAsJsonObject().get("drifted").getAsBoolean()).isFalse();
      }

      for (int i = 0; i < 500; i++) {
        call(server, random, 3); // feature 3 moves by two standard deviations
      }
      Thread.sleep(200); // the last calls' listeners
      JsonArray features = report(server).getAsJsonArray("inputs");
      JsonObject top = features.get(0).getAsJsonObject();
      assertThat(top.get("name").getAsString()).isEqualTo("x[3]");
      assertThat(top.get("drifted").getAsBoolean()).isTrue();
      assertThat(top.get("psi").getAsDouble()).isGreaterThan(0.5);
      assertThat(top.get("ks").getAsDouble()).isGreaterThan(0.3);
      for (int i = 1; i < features.size(); i++) {
        assertThat(features.get(i).getAsJsonObject().get("psi").getAsDouble()).as("%s", features.get(i)).isLessThan(0.1);
      }

      String metrics = new String(server.server().metricsScrape(), StandardCharsets.UTF_8);
      assertThat(metrics).contains("junction_drift_psi{feature=\"x[3]\",model=\"mlp\",version=\"1\"}");
      assertThat(metrics.lines().filter(l -> l.startsWith("junction_drift_psi{"))).as("top K inputs only").hasSize(3);
      assertThat(metrics).contains("junction_drift_window_calls{model=\"mlp\",version=\"1\"} 500.0");
      assertThat(get(server, "/v2/models/add_sub/drift").statusCode()).as("no reference, no report").isEqualTo(404);
    }
  }

  @Test
  void aReferenceCanBeFrozenFromTheFirstCalls() throws Exception {
    Path repo = DemoRepository.write(dir.resolve("repo"));
    ServerConfig config = ServerConfig.loopback(repo).withDrift(new DriftMonitor.Settings(1000, 1000, 5));
    try (TestServer server = TestServer.start(config)) {
      Random random = new Random(11);
      for (int i = 0; i < 1000; i++) {
        call(server, random, -1);
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> report(server).get("state").getAsString().equals("READY"));
      JsonObject report = report(server);
      assertThat(report.getAsJsonObject("reference").get("source").getAsString()).contains("first 1000 calls");
      assertThat(report.getAsJsonArray("outputs").toString()).contains("y:class");
      for (int i = 0; i < 1000; i++) {
        call(server, random, -1);
      }
      Thread.sleep(200); // the last calls' listeners
      assertThat(report(server).getAsJsonArray("inputs").get(0).getAsJsonObject().get("psi").getAsDouble()).isLessThan(0.1);
    }
  }

  /** One call of x ~ N(0, 1), with feature {@code shifted} (if >= 0) moved by +2. */
  private static void call(TestServer server, Random random, int shifted) {
    float[] x = new float[8];
    for (int f = 0; f < 8; f++) {
      x[f] = (float) random.nextGaussian() + (f == shifted ? 2 : 0);
    }
    server.blocking().modelInfer(rawFp32("mlp", "1", "x", x, 1, 8));
  }

  private static JsonObject report(TestServer server) throws Exception {
    HttpResponse<String> r = get(server, "/v2/models/mlp/versions/1/drift");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return JsonParser.parseString(r.body()).getAsJsonObject();
  }

  private static HttpResponse<String> get(TestServer server, String path) throws Exception {
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
        + server.server().httpPort().orElseThrow() + path)).build(), HttpResponse.BodyHandlers.ofString());
  }
}
