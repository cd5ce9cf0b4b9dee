package io.junction.server.it;

import static io.junction.server.InferRequests.rawFp32;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.junction.proto.feedback.v1.FeedbackServiceGrpc;
import io.junction.proto.feedback.v1.Outcome;
import io.junction.proto.feedback.v1.RecordRequest;
import io.junction.proto.inference.ModelInferResponse;
import io.junction.server.TestServer;
import io.junction.server.config.ServerConfig;
import io.junction.server.config.StatusPageConfig;
import io.junction.testkit.DemoRepository;
import java.io.File;
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
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.io.TempDir;

/**
 * The status page: its JSON over HTTP, and the page itself rendered by a real browser (headless
 * Chromium, when installed: `.ci/run` installs Debian's `chromium`, so CI always runs it).
 */
class StatusPageTest {
  @TempDir Path dir;

  private TestServer start(StatusPageConfig page) throws Exception {
    Path repo = DemoRepository.write(dir.resolve("repo"));
    Path routes = Files.writeString(dir.resolve("routes.yaml"), """
        routes:
          - name: scorer
            variants:
              - { name: a, model: mlp, version: 1, weight: 50 }
              - { name: b, model: mlp, version: 2, weight: 50 }
          - name: ranker
            variants:
              - { name: stable, model: mlp, version: 1, weight: 100 }
              - { name: next, model: mlp, version: 2, weight: 0 }
            shadow: { model: mlp, version: 2, fraction: 1.0 }
            canary: { variant: next, baseline: stable, steps: [10, 50, 100], min_requests: 100000,
                      max_error_rate_increase: 1, max_p99_ratio: 1000 }
        """);
    return TestServer.start(ServerConfig.loopback(repo).withRoutesFile(routes).withStatusPage(page));
  }

  /** Calls to both routes, and a click reported for every scorer call. */
  private static void traffic(TestServer server) {
    RecordRequest.Builder clicks = RecordRequest.newBuilder();
    for (int i = 0; i < 200; i++) {
      String id = "call-" + i;
      ModelInferResponse r = server.blocking().modelInfer(rawFp32("scorer", "", "x", new float[8], 1, 8).toBuilder()
          .setId(id).build());
      clicks.addOutcomes(Outcome.newBuilder().setRequestId(id).setOutcome("click").setValue(i % 9 == 0 ? 1 : 0));
      server.blocking().modelInfer(rawFp32("ranker", "", "x", new float[8], 1, 8));
    }
    assertThat(r(server, clicks.build())).isEqualTo(200);
  }

  private static long r(TestServer server, RecordRequest request) {
    return FeedbackServiceGrpc.newBlockingStub(server.channel()).record(request).getAccepted();
  }

  @Test
  void theJsonSaysWhatServesAndHowItIsDoing() throws Exception {
    try (TestServer server = start(new StatusPageConfig(true, Duration.ofMillis(300), 60))) {
      traffic(server);
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
        JsonObject status = JsonParser.parseString(get(server, "/v2/status").body()).getAsJsonObject();
        assertThat(status.getAsJsonObject("server").get("ready").getAsBoolean()).isTrue();
        JsonObject mlp = find(status.getAsJsonArray("models"), "name", "mlp");
        assertThat(mlp.getAsJsonArray("versions")).hasSize(2);
        assertThat(mlp.getAsJsonArray("versions").get(0).getAsJsonObject().get("state").getAsString()).isEqualTo("READY");
        assertThat(mlp.getAsJsonArray("series").asList()).anySatisfy(p ->
            assertThat(p.getAsJsonObject().get("rps").getAsDouble()).isPositive());
        JsonObject ranker = find(status.getAsJsonArray("routes"), "name", "ranker");
        assertThat(ranker.getAsJsonObject("canary").get("state").getAsString()).isEqualTo("PROGRESSING");
        assertThat(ranker.getAsJsonObject("canary").getAsJsonArray("history")).isNotEmpty();
        assertThat(ranker.getAsJsonObject("shadow").get("rows_compared").getAsLong()).isPositive();
        JsonObject scorer = find(status.getAsJsonArray("routes"), "name", "scorer");
        JsonObject click = scorer.getAsJsonArray("outcomes").get(0).getAsJsonObject();
        assertThat(click.get("outcome").getAsString()).isEqualTo("click");
        assertThat(click.getAsJsonArray("comparisons")).hasSize(1);
      });
      HttpResponse<String> page = get(server, "/");
      assertThat(page.statusCode()).isEqualTo(200);
      assertThat(page.headers().firstValue("Content-Security-Policy").orElse("")).contains("default-src 'none'");
      // Self-contained: no script, style sheet or image is loaded from anywhere.
      assertThat(page.body()).contains("<title>Junction status</title>").doesNotContain(" src=", "<link", "@import");
      assertThat(get(server, "/ui").statusCode()).isEqualTo(200);
      assertThat(HttpClient.newHttpClient().send(HttpRequest.newBuilder(url(server, "/v2/status"))
          .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString()).statusCode())
          .as("read-only").isEqualTo(405);
    }
  }

  @Test
  void itCanBeTurnedOff() throws Exception {
    try (TestServer server = start(StatusPageConfig.OFF)) {
      assertThat(get(server, "/").statusCode()).isEqualTo(404);
      assertThat(get(server, "/v2/status").statusCode()).isEqualTo(404);
    }
  }

  @Test
  @EnabledIf("chromiumInstalled")
  void aBrowserRendersModelsChartsRoutesAndTheCanary() throws Exception {
    try (TestServer server = start(new StatusPageConfig(true, Duration.ofMillis(300), 60))) {
      traffic(server);
      Thread.sleep(1_000); // a few samples for the charts
      traffic(server);
      Thread.sleep(700);
      String dom = chromium(server, "--dump-dom");
      assertThat(dom).contains("data-loaded=\"true\"");
      assertThat(dom).contains("data-model=\"mlp\"", "data-model=\"add_sub\"", "data-model=\"text_echo\"");
      assertThat(dom).containsPattern("<path class=\"line\" d=\"M[0-9.]+,[0-9.]+L");
      assertThat(dom).contains("requests (req/s)", "latency (ms)", "time (s ago)");
      assertThat(dom).contains("data-route=\"ranker\"", "canary-state PROGRESSING\">PROGRESSING");
      assertThat(dom).contains("data-outcome=\"click\"", "b − a:");
      assertThat(dom).contains("argmax agrees on");
      Path png = Path.of("target", "status-page.png").toAbsolutePath();
      chromium(server, "--screenshot=" + png, "--window-size=1300,2600");
      assertThat(Files.size(png)).isGreaterThan(10_000);
    }
  }

  static boolean chromiumInstalled() {
    return chromiumBinary().isPresent();
  }

  private static Optional<String> chromiumBinary() {
    for (String name : List.of("chromium", "chromium-browser", "google-chrome")) {
      for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
        File f = new File(d, name);
        if (f.canExecute()) {
          return Optional.of(f.getPath());
        }
      }
    }
    return Optional.empty();
  }

  private static String chromium(TestServer server, String... what) throws Exception {
    List<String> command = new ArrayList<>(List.of(chromiumBinary().orElseThrow(), "--headless=new",
        "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--virtual-time-budget=5000"));
    command.addAll(List.of(what));
    command.add(url(server, "/").toString());
    Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    byte[] out = p.getInputStream().readAllBytes();
    assertThat(p.waitFor(90, TimeUnit.SECONDS)).isTrue();
    return new String(out, StandardCharsets.UTF_8);
  }

  private static JsonObject find(JsonArray array, String key, String value) {
    for (var e : array) {
      if (e.getAsJsonObject().get(key).getAsString().equals(value)) {
        return e.getAsJsonObject();
      }
    }
    throw new AssertionError("no " + key + "=" + value + " in " + array);
  }

  private static URI url(TestServer server, String path) {
    return URI.create("http://127.0.0.1:" + server.server().httpPort().orElseThrow() + path);
  }

  private static HttpResponse<String> get(TestServer server, String path) throws Exception {
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(url(server, path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
