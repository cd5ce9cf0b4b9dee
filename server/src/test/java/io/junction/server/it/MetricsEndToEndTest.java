package io.junction.server.it;

import static io.junction.server.InferRequests.rawFp32;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.StatusRuntimeException;
import io.junction.server.TestServer;
import io.junction.server.config.MetricsConfig;
import io.junction.server.config.ServerConfig;
import io.junction.testkit.DemoRepository;
import io.junction.testkit.Mlp;
import io.junction.testkit.ModelRepositoryWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Scrapes /metrics like Prometheus does and checks the counters move by exactly the traffic sent. */
class MetricsEndToEndTest {
  private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{[^}]*\\})? (\\S+)$");

  @TempDir Path repo;

  @Test
  void countersFollowKnownTraffic() throws Exception {
    DemoRepository.write(repo);
    new ModelRepositoryWriter(repo).model("batched", 1, Mlp.seeded(8, 4, 3).onnx())
        .config("batched", "max_batch_size: 16\ndynamic_batching { default_queue_policy { max_queue_size: 7 } }\n");
    try (TestServer server = TestServer.start(repo)) {
      Map<String, Double> before = scrape(server);
      int[] rows = {1, 2, 3, 1, 1};
      for (int r : rows) {
        server.blocking().modelInfer(rawFp32("mlp", "1", "x", new float[r * 8], r, 8));
      }
      assertThatThrownBy(() -> server.blocking().modelInfer(rawFp32("mlp", "1", "x", new float[7], 1, 7)))
          .isInstanceOf(StatusRuntimeException.class);
      server.blocking().modelInfer(rawFp32("batched", "", "x", new float[8], 1, 8));
      Map<String, Double> after = scrape(server);

      String v1 = "{model=\"mlp\",version=\"1\"}";
      assertThat(delta(before, after, "nv_inference_request_success" + v1)).isEqualTo(5);
      assertThat(delta(before, after, "nv_inference_request_failure{model=\"mlp\",reason=\"OTHER\",version=\"1\"}"))
          .as("a request of the wrong shape fails for reason OTHER, as in Triton").isEqualTo(1);
      for (String reason : new String[] {"REJECTED", "CANCELED", "BACKEND"}) {
        assertThat(delta(before, after, "nv_inference_request_failure{model=\"mlp\",reason=\"" + reason
            + "\",version=\"1\"}")).isZero();
      }
      assertThat(delta(before, after, "nv_inference_count" + v1)).isEqualTo(8);
      assertThat(delta(before, after, "nv_inference_exec_count" + v1)).isEqualTo(5);
      assertThat(delta(before, after, "nv_inference_request_duration_us" + v1)).isPositive();
      assertThat(delta(before, after, "nv_inference_compute_infer_duration_us" + v1)).isPositive();
      assertThat(delta(before, after, "nv_inference_request_success{model=\"mlp\",version=\"2\"}")).isZero();
      assertThat(delta(before, after, "nv_inference_request_success{model=\"batched\",version=\"1\"}")).isEqualTo(1);
      assertThat(delta(before, after,
          "junction_request_duration_seconds_count{model=\"mlp\",outcome=\"success\",version=\"1\"}")).isEqualTo(5);
      assertThat(delta(before, after,
          "junction_request_duration_seconds_count{model=\"mlp\",outcome=\"failure\",version=\"1\"}")).isEqualTo(1);
      assertThat(delta(before, after, "junction_batch_size_sum{model=\"mlp\",version=\"1\"}")).isEqualTo(8);
      assertThat(after.get("junction_model_state{model=\"mlp\",state=\"READY\",version=\"1\"}")).isEqualTo(1);
      assertThat(after.get("junction_model_state{model=\"mlp\",state=\"UNAVAILABLE\",version=\"1\"}")).isZero();
      assertThat(after.get("junction_queue_size{model=\"batched\",version=\"1\"}")).isZero();
      assertThat(after.get("junction_queue_capacity{model=\"batched\",version=\"1\"}")).isEqualTo(7);
      assertThat(after.get("nv_inference_pending_request_count{model=\"batched\",version=\"1\"}")).isZero();
      assertThat(after.get("nv_cpu_utilization")).isBetween(0.0, 1.0);
      assertThat(after.get("nv_cpu_memory_total_bytes")).isPositive();
      assertThat(after.get("nv_cpu_memory_used_bytes")).isPositive().isLessThanOrEqualTo(after.get("nv_cpu_memory_total_bytes"));
      assertThat(after).containsKey("junction_inflight_requests{model=\"mlp\",version=\"1\"}");
      assertThat(after.keySet()).anyMatch(k -> k.startsWith("jvm_memory_used_bytes"));
      assertThat(after.keySet()).anyMatch(k -> k.startsWith("process_cpu_seconds_total"));
    }
  }

  @Test
  void tritonsCountersAreTypedCountersInTheTextFormatAndKeepTheirNamesInOpenMetrics() throws Exception {
    DemoRepository.write(repo);
    try (TestServer server = TestServer.start(repo)) {
      server.blocking().modelInfer(rawFp32("mlp", "1", "x", new float[8], 1, 8));
      int port = server.server().httpPort().orElseThrow();
      String text = get(port, "text/plain; version=0.0.4");
      assertThat(text).contains("# TYPE nv_inference_request_success counter\n",
          "# TYPE nv_inference_request_failure counter\n", "# TYPE nv_inference_compute_infer_duration_us counter\n")
          .contains("nv_inference_request_success{model=\"mlp\",version=\"1\"} 1")
          .doesNotContain("nv_inference_request_success_total").doesNotContain(" untyped\n# HELP nv_");
      String open = get(port, "application/openmetrics-text; version=1.0.0");
      assertThat(open).as("OpenMetrics requires _total on counters: kept unknown, with Triton's names")
          .contains("# TYPE nv_inference_request_success unknown\n")
          .contains("nv_inference_request_success{model=\"mlp\",version=\"1\"} 1");
      // Prometheus with native histograms on asks for its protobuf format first, which this build does not write:
      // the best text format it also takes, not a failed scrape.
      HttpResponse<String> proto = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
          + port + "/metrics")).header("Accept", "application/vnd.google.protobuf;proto=io.prometheus.client."
          + "MetricFamily;encoding=delimited;q=0.6,application/openmetrics-text;version=1.0.0;q=0.5,text/plain;"
          + "version=0.0.4;q=0.3,*/*;q=0.1").build(), HttpResponse.BodyHandlers.ofString());
      assertThat(proto.statusCode()).isEqualTo(200);
      assertThat(proto.headers().firstValue("content-type").orElseThrow()).startsWith("application/openmetrics-text");
      assertThat(proto.body()).contains("nv_inference_request_success{model=\"mlp\",version=\"1\"} 1");
      assertThat(get(port, "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"))
          .as("protobuf alone: the text format").contains("# TYPE nv_inference_request_success counter\n");
    }
  }

  @Test
  void tritonsLatencySummariesAreThereWhenAskedFor() throws Exception {
    DemoRepository.write(repo);
    try (TestServer plain = TestServer.start(repo)) {
      plain.blocking().modelInfer(rawFp32("mlp", "1", "x", new float[8], 1, 8));
      assertThat(scrape(plain).keySet()).as("off by default, as in Triton").noneMatch(k -> k.contains("_summary_us"));
    }
    ServerConfig config = ServerConfig.loopback(repo)
        .withMetrics(new MetricsConfig(true));
    try (TestServer server = TestServer.start(config)) {
      for (int i = 0; i < 5; i++) {
        server.blocking().modelInfer(rawFp32("mlp", "1", "x", new float[8], 1, 8));
      }
      Awaitility.await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
        Map<String, Double> after = scrape(server);
        for (String name : new String[] {"request", "queue", "compute_input", "compute_infer", "compute_output"}) {
          String summary = "nv_inference_" + name + "_summary_us";
          assertThat(after.get(summary + "_count{model=\"mlp\",version=\"1\"}")).as(summary).isEqualTo(5);
          assertThat(after.get(summary + "{model=\"mlp\",quantile=\"0.99\",version=\"1\"}")).as(summary)
              .isGreaterThanOrEqualTo(0);
        }
        assertThat(after.get("nv_inference_request_summary_us{model=\"mlp\",quantile=\"0.5\",version=\"1\"}"))
            .isPositive();
      });
    }
  }

  private static String get(int port, String accept) throws Exception {
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
        .header("Accept", accept).build(), HttpResponse.BodyHandlers.ofString()).body();
  }

  private static double delta(Map<String, Double> before, Map<String, Double> after, String key) {
    assertThat(after).as("metrics after the traffic").containsKey(key);
    return after.get(key) - before.getOrDefault(key, 0.0);
  }

  /** Series name with its labels sorted by name, to its value. */
  private static Map<String, Double> scrape(TestServer server) throws Exception {
    int port = server.server().httpPort().orElseThrow();
    HttpResponse<String> response = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain");
    Map<String, Double> series = new HashMap<>();
    for (String line : response.body().split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      Matcher m = SAMPLE.matcher(line);
      assertThat(m.matches()).as("a valid sample line: %s", line).isTrue();
      String labels = m.group(2) == null ? "" : "{" + String.join(",", new TreeSet<>(
          Arrays.asList(m.group(2).substring(1, m.group(2).length() - 1).split(",")))) + "}";
      series.put(m.group(1) + labels, Double.parseDouble(m.group(3)));
    }
    return series;
  }
}
