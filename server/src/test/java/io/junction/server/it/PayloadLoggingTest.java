package io.junction.server.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.sun.net.httpserver.HttpServer;
import io.grpc.StatusRuntimeException;
import io.junction.proto.inference.ModelInferRequest;
import io.junction.server.InferRequests;
import io.junction.server.JunctionServer;
import io.junction.server.TestServer;
import io.junction.server.config.PayloadLogConfig;
import io.junction.server.config.ServerConfig;
import io.junction.server.payload.PayloadLogPolicy;
import io.junction.server.telemetry.Telemetry;
import io.junction.testkit.DemoRepository;
import io.junction.testkit.FixtureModels;
import io.junction.testkit.ModelRepositoryWriter;
import io.junction.testkit.OtlpReceiver;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Payload logging to real sinks: gzip JSON-lines files, an OTLP receiver, a CloudEvents HTTP receiver. */
class PayloadLoggingTest {
  @TempDir Path dir;

  private static ModelInferRequest addSub(String id, float[] a, float[] b) {
    return InferRequests.rawFp32("add_sub", "", "A", a, 1, 3).toBuilder().setId(id)
        .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("B")
            .setDatatype("FP32").addShape(1).addShape(3))
        .addRawInputContents(InferRequests.rawFp32("add_sub", "", "B", b, 1, 3).getRawInputContents(0)).build();
  }

  @Test
  void callsAreLoggedAsGzipJsonLinesWithSummariesAndExclusions() throws Exception {
    Path repo = DemoRepository.write(dir.resolve("repo"));
    // A private copy of add_sub: input B never logged, anything over 8 bytes summarised.
    new ModelRepositoryWriter(repo).model("private_sum", 1, FixtureModels.addSub()).config("private_sum", """
        max_batch_size: 16
        input [ { name: "A", data_type: TYPE_FP32, dims: [ 3 ] }, { name: "B", data_type: TYPE_FP32, dims: [ 3 ] } ]
        output [ { name: "SUM", data_type: TYPE_FP32, dims: [ 3 ] }, { name: "DIFF", data_type: TYPE_FP32, dims: [ 3 ] } ]
        parameters { key: "payload_log_max_bytes" value { string_value: "8" } }
        parameters { key: "payload_log_exclude" value { string_value: "B" } }
        """);
    new ModelRepositoryWriter(repo).model("unlogged", 1, FixtureModels.addSub()).config("unlogged", """
        max_batch_size: 16
        parameters { key: "payload_log_sample_rate" value { string_value: "0" } }
        """);
    Path logs = dir.resolve("payloads");
    ServerConfig config = ServerConfig.loopback(repo).withPayloadLog(PayloadLogConfig.OFF.withDir(logs));
    try (TestServer server = TestServer.start(config)) {
      server.blocking().modelInfer(addSub("call-1", new float[] {1, 2, 3}, new float[] {0.5f, 0.5f, 0.5f}));
      assertThatThrownBy(() -> server.blocking().modelInfer(InferRequests.rawFp32("add_sub", "", "A", new float[2], 1, 2)
          .toBuilder().setId("bad-1").build())).isInstanceOf(StatusRuntimeException.class);
      var priv = addSub("call-2", new float[] {-1, 4, 7}, new float[] {1, 1, 1}).toBuilder().setModelName("private_sum").build();
      server.blocking().modelInfer(priv);
      server.blocking().modelInfer(addSub("call-3", new float[3], new float[3]).toBuilder().setModelName("unlogged").build());
    } // closing writes out and completes the files

    List<JsonObject> records = read(logs);
    assertThat(records).extracting(r -> r.get("request_id").getAsString())
        .containsExactlyInAnyOrder("call-1", "bad-1", "call-2");
    JsonObject ok = find(records, "call-1");
    assertThat(ok.get("model").getAsString()).isEqualTo("add_sub");
    assertThat(ok.get("version").getAsString()).isEqualTo("1");
    assertThat(ok.get("status").getAsString()).isEqualTo("OK");
    assertThat(ok.get("latency_us").getAsLong()).isPositive();
    assertThat(ok.get("time").getAsString()).endsWith("Z");
    assertThat(ok.getAsJsonArray("inputs").get(0).getAsJsonObject().get("data").toString()).isEqualTo("[1.0,2.0,3.0]");
    JsonObject sum = ok.getAsJsonArray("outputs").get(0).getAsJsonObject();
    assertThat(sum.get("name").getAsString()).isEqualTo("SUM");
    assertThat(sum.get("shape").toString()).isEqualTo("[1,3]");
    assertThat(sum.get("data").toString()).isEqualTo("[1.5,2.5,3.5]");

    JsonObject bad = find(records, "bad-1");
    assertThat(bad.get("status").getAsString()).isEqualTo("INVALID_ARGUMENT");
    assertThat(bad.get("error").getAsString()).contains("model 'add_sub'");
    assertThat(bad.has("outputs")).isFalse();

    JsonObject summarised = find(records, "call-2");
    JsonObject a = summarised.getAsJsonArray("inputs").get(0).getAsJsonObject();
    JsonObject b = summarised.getAsJsonArray("inputs").get(1).getAsJsonObject();
    if (a.get("name").getAsString().equals("B")) {
      JsonObject t = a;
      a = b;
      b = t;
    }
    assertThat(a.has("data")).isFalse();
    JsonObject summary = a.getAsJsonObject("summary");
    assertThat(summary.get("elements").getAsLong()).isEqualTo(3);
    assertThat(summary.get("min").getAsDouble()).isEqualTo(-1);
    assertThat(summary.get("max").getAsDouble()).isEqualTo(7);
    assertThat(summary.get("mean").getAsDouble()).isEqualTo(10.0 / 3);
    ByteBuffer bytes = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN)
        .putFloat(-1).putFloat(4).putFloat(7);
    assertThat(summary.get("sha256").getAsString()).isEqualTo(HexFormat.of().formatHex(
        MessageDigest.getInstance("SHA-256").digest(bytes.array())));
    assertThat(b.get("excluded").getAsBoolean()).isTrue();
    assertThat(b.has("data") || b.has("summary")).isFalse();
    try (Stream<Path> files = Files.list(logs)) {
      assertThat(files.map(p -> p.getFileName().toString())).allMatch(n -> n.endsWith(".jsonl.gz"));
    }
  }

  @Test
  void recordsGoAsCloudEventsAndOtlpLogRecordsJoinedToTheTrace() throws Exception {
    Path repo = DemoRepository.write(dir.resolve("repo"));
    List<Map<String, String>> events = new CopyOnWriteArrayList<>();
    HttpServer receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
    receiver.createContext("/", exchange -> {
      Map<String, String> event = new HashMap<>();
      exchange.getRequestHeaders().forEach((k, v) -> event.put(k.toLowerCase(), v.get(0)));
      event.put("body", new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
      events.add(event);
      exchange.sendResponseHeaders(202, -1);
      exchange.close();
    });
    receiver.start();
    try (OtlpReceiver otlp = new OtlpReceiver()) {
      PayloadLogConfig payloads = PayloadLogConfig.OFF.withOtlp(true)
          .withCloudEvents(URI.create("http://127.0.0.1:" + receiver.getAddress().getPort() + "/events"));
      Telemetry telemetry = Telemetry.autoconfigured(Map.of("otel.traces.exporter", "otlp", "otel.logs.exporter", "otlp",
          "otel.exporter.otlp.protocol", "grpc", "otel.exporter.otlp.endpoint", otlp.endpoint(),
          "otel.blrp.schedule.delay", "50", "otel.bsp.schedule.delay", "50"));
      try (JunctionServer server = new JunctionServer(ServerConfig.loopback(repo).withPayloadLog(payloads), telemetry).start()) {
        HttpResponse<String> answer = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                "http://127.0.0.1:" + server.httpPort().orElseThrow() + "/v2/models/add_sub/infer"))
            .POST(HttpRequest.BodyPublishers.ofString("{\"id\":\"ce-1\",\"inputs\":["
                + "{\"name\":\"A\",\"datatype\":\"FP32\",\"shape\":[1,3],\"data\":[1,2,3]},"
                + "{\"name\":\"B\",\"datatype\":\"FP32\",\"shape\":[1,3],\"data\":[1,1,1]}]}")).build(),
            HttpResponse.BodyHandlers.ofString());
        assertThat(answer.statusCode()).isEqualTo(200);
        String traceId = answer.headers().firstValue("x-trace-id").orElseThrow();

        await().atMost(Duration.ofSeconds(10)).until(() -> events.size() == 2);
        assertThat(events).extracting(e -> e.get("ce-type")).containsExactlyInAnyOrder(
            "org.kubeflow.serving.inference.request", "org.kubeflow.serving.inference.response");
        for (Map<String, String> e : events) {
          assertThat(e.get("ce-specversion")).isEqualTo("1.0");
          assertThat(e.get("ce-id")).isEqualTo("ce-1");
          assertThat(e.get("ce-source")).isEqualTo("junction");
          assertThat(e.get("ce-inferenceservicename")).isEqualTo("add_sub");
          assertThat(JsonParser.parseString(e.get("body")).getAsJsonObject().get("trace_id").getAsString()).isEqualTo(traceId);
        }

        var record = await().atMost(Duration.ofSeconds(10)).until(() -> otlp.logs.stream().findFirst(),
            Optional::isPresent).orElseThrow();
        assertThat(OtlpReceiver.hex(record.getTraceId())).isEqualTo(traceId);
        assertThat(record.getBody().getStringValue()).contains("\"model\":\"add_sub\"", "\"request_id\":\"ce-1\"");
        assertThat(record.getAttributesList()).anySatisfy(kv -> {
          assertThat(kv.getKey()).isEqualTo("junction.model.name");
          assertThat(kv.getValue().getStringValue()).isEqualTo("add_sub");
        });
      } finally {
        telemetry.close();
      }
    } finally {
      receiver.stop(0);
    }
  }

  @Test
  void aFullQueueDropsRecordsNotCalls() throws Exception {
    Path repo = DemoRepository.write(dir.resolve("repo"));
    HttpServer slow = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
    slow.createContext("/", exchange -> {
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      exchange.sendResponseHeaders(202, -1);
      exchange.close();
    });
    slow.start();
    try {
      PayloadLogConfig payloads = PayloadLogConfig.OFF.withQueue(2)
          .withCloudEvents(URI.create("http://127.0.0.1:" + slow.getAddress().getPort() + "/"));
      try (TestServer server = TestServer.start(ServerConfig.loopback(repo).withPayloadLog(payloads))) {
        for (int i = 0; i < 300; i++) {
          server.blocking().modelInfer(addSub("q-" + i, new float[3], new float[3])); // none may fail
        }
        String metrics = new String(server.server().metricsScrape(), StandardCharsets.UTF_8);
        double dropped = metrics.lines().filter(l -> l.startsWith("junction_payload_records_dropped_total "))
            .mapToDouble(l -> Double.parseDouble(l.substring(l.indexOf(' ') + 1))).findFirst().orElseThrow();
        assertThat(dropped).as("records dropped while the receiver lagged").isPositive();
      }
    } finally {
      slow.stop(0);
    }
  }

  private static JsonObject find(List<JsonObject> records, String id) {
    return records.stream().filter(r -> r.get("request_id").getAsString().equals(id)).findFirst().orElseThrow();
  }

  private static List<JsonObject> read(Path logs) throws Exception {
    List<JsonObject> records = new ArrayList<>();
    try (Stream<Path> files = Files.list(logs)) {
      for (Path f : files.sorted().toList()) {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(new GZIPInputStream(Files.newInputStream(f)),
            StandardCharsets.UTF_8))) {
          in.lines().forEach(l -> records.add(JsonParser.parseString(l).getAsJsonObject()));
        }
      }
    }
    return records;
  }
}
