package io.junction.server.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.junction.server.InferRequests;
import io.junction.server.TestServer;
import io.junction.server.config.ServerConfig;
import io.junction.testkit.DeepMlp;
import io.junction.testkit.ModelRepositoryWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A draining server answers the REST calls it accepted and refuses new ones, as its gRPC port does: the batchers finish
 * what they queued before they stop, and refuse what comes after.
 */
class RestDrainTest {
  @TempDir Path repo;

  @Test
  void acceptedRestCallsAreAnsweredAndNewOnesRefusedWhileTheServerDrains() throws Exception {
    new ModelRepositoryWriter(repo).model("slow", 1, DeepMlp.slow().onnx())
        .config("slow", "max_batch_size: 64\n");
    TestServer server = TestServer.start(ServerConfig.loopback(repo).withScheduling(1, 1024));
    int port = server.server().httpPort().orElseThrow();
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    String big = body(64);
    List<CompletableFuture<HttpResponse<String>>> accepted = new ArrayList<>();
    for (int i = 0; i < 32; i++) {
      accepted.add(http.sendAsync(infer(port, big, Duration.ofSeconds(120)), HttpResponse.BodyHandlers.ofString()));
    }
    // Every call accepted (queued, running or answered) before the drain begins, several still to run.
    await().atMost(Duration.ofSeconds(60)).until(() -> series(server, "junction_inflight_requests")
        + series(server, "nv_inference_request_success") >= accepted.size());
    assertThat(series(server, "junction_inflight_requests")).isGreaterThanOrEqualTo(4);

    Thread drainer = new Thread(() -> server.server().drainAndClose(Duration.ZERO, Duration.ofSeconds(120)), "drainer");
    drainer.start();
    HttpResponse<String> refused = await().atMost(Duration.ofSeconds(10)).ignoreExceptions()
        .until(() -> http.send(infer(port, body(1), Duration.ofSeconds(2)), HttpResponse.BodyHandlers.ofString()),
            r -> r.statusCode() == 503);
    assertThat(refused.body()).contains("model 'slow'", "shutting down");

    for (CompletableFuture<HttpResponse<String>> call : accepted) {
      HttpResponse<String> answer = call.get(120, TimeUnit.SECONDS);
      assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
      assertThat(answer.body()).contains("\"outputs\"");
    }
    drainer.join(TimeUnit.SECONDS.toMillis(120));
    assertThat(drainer.isAlive()).isFalse();
    server.close();
  }

  private static HttpRequest infer(int port, String body, Duration timeout) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v2/models/slow/infer")).timeout(timeout)
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
  }

  private static String body(int rows) {
    return "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[" + rows + ",512],\"data\":"
        + Arrays.toString(InferRequests.ramp(rows * 512, 0.001f)) + "}]}";
  }

  /** The model's value of a metric series: requests it holds (queued or running), or has answered. */
  private static double series(TestServer server, String name) throws Exception {
    return new String(server.server().metricsScrape(), StandardCharsets.UTF_8).lines()
        .filter(l -> l.startsWith(name + "{") && l.contains("model=\"slow\""))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).findFirst().orElse(0);
  }
}
