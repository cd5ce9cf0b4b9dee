package io.junction.client;

import static io.junction.testkit.OtlpReceiver.attribute;
import static io.junction.testkit.OtlpReceiver.hex;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.junction.proto.inference.GRPCInferenceServiceGrpc;
import io.junction.proto.inference.InferTensorContents;
import io.junction.proto.inference.ModelInferRequest;
import io.junction.server.JunctionServer;
import io.junction.server.config.ServerConfig;
import io.junction.server.telemetry.Telemetry;
import io.junction.testkit.DemoRepository;
import io.junction.testkit.FixtureModels;
import io.junction.testkit.Mlp;
import io.junction.testkit.ModelRepositoryWriter;
import io.junction.testkit.OtlpReceiver;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.context.Scope;
import io.opentelemetry.proto.trace.v1.Status.StatusCode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Traces of calls made through the client, exported by the server over OTLP/gRPC to a real receiver on
 * loopback, checked span by span.
 */
class TracingEndToEndTest {
  private static final String MODEL_INFER = "inference.GRPCInferenceService/ModelInfer";

  @TempDir Path repo;

  private static Map<String, String> exportTo(OtlpReceiver receiver, String sampler, String arg) {
    Map<String, String> p = new HashMap<>();
    p.put("otel.traces.exporter", "otlp");
    p.put("otel.exporter.otlp.protocol", "grpc");
    p.put("otel.exporter.otlp.endpoint", receiver.endpoint());
    p.put("otel.bsp.schedule.delay", "50");
    p.put("otel.traces.sampler", sampler);
    if (arg != null) {
      p.put("otel.traces.sampler.arg", arg);
    }
    return p;
  }

  private static SpanContext clientSpan() {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    return SpanContext.create(String.format("%016x%016x", r.nextLong() | 1, r.nextLong()),
        String.format("%016x", r.nextLong() | 1), TraceFlags.getSampled(), TraceState.getDefault());
  }

  @Test
  void restCallsContinueTheCallersW3cTrace() throws Exception {
    DemoRepository.write(repo);
    try (OtlpReceiver receiver = new OtlpReceiver();
        JunctionServer server = new JunctionServer(ServerConfig.loopback(repo),
            Telemetry.autoconfigured(exportTo(receiver, "parentbased_always_on", null))).start()) {
      SpanContext parent = clientSpan();
      var response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + server.httpPort().orElseThrow() + "/v2/models/mlp/versions/1/infer"))
          .header("traceparent", "00-" + parent.getTraceId() + "-" + parent.getSpanId() + "-01")
          .POST(HttpRequest.BodyPublishers.ofString(
              "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1,8],\"data\":[0,0,0,0,0,0,0,0]}]}"))
          .build(), HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
      assertThat(response.headers().firstValue("x-trace-id")).contains(parent.getTraceId());
      var span = await().atMost(Duration.ofSeconds(10)).until(() -> receiver.spans.stream()
          .filter(s -> hex(s.getTraceId()).equals(parent.getTraceId())).findFirst(),
          Optional::isPresent).orElseThrow();
      assertThat(span.getName()).isEqualTo("POST /v2/models/{model_name}/versions/{model_version}/infer");
      assertThat(hex(span.getParentSpanId())).isEqualTo(parent.getSpanId());
      assertThat(span.getKind()).isEqualTo(io.opentelemetry.proto.trace.v1.Span.SpanKind.SPAN_KIND_SERVER);
      assertThat(attribute(span, "http.response.status_code")).contains("200");
      assertThat(attribute(span, "junction.model.name")).contains("mlp");
      assertThat(attribute(span, "junction.queue.wait_us")).isPresent();
    }
  }

  /** The ModelInfer server span of the trace {@code parent} started, once the receiver has it. */
  private static io.opentelemetry.proto.trace.v1.Span serverSpan(OtlpReceiver receiver, SpanContext parent) {
    return await().atMost(Duration.ofSeconds(10)).until(() -> receiver.spans.stream()
        .filter(s -> hex(s.getTraceId()).equals(parent.getTraceId()) && s.getName().equals(MODEL_INFER))
        .findFirst(), Optional::isPresent).orElseThrow();
  }

  /**
   * What a client sends ends up in spans bounded (4,096 characters, Junction's own bound: the SDK sets no length limit),
   * however long it is: one request cannot make a span, and the export carrying it, as large as its message.
   */
  @Test
  void clientTextInSpansIsBounded() throws Exception {
    DemoRepository.write(repo);
    String longId = "i".repeat(10_000);
    String longModel = "m".repeat(10_000);
    try (OtlpReceiver receiver = new OtlpReceiver();
        JunctionServer server = new JunctionServer(ServerConfig.loopback(repo),
            Telemetry.autoconfigured(exportTo(receiver, "always_on", null))).start();
        JunctionClient client = JunctionClient.builder("127.0.0.1:" + server.grpcPort()).plaintext()
            .defaultDeadline(Duration.ofSeconds(20)).build()) {
      SpanContext parent = clientSpan();
      try (Scope ignored = Span.wrap(parent).makeCurrent()) {
        client.infer(InferRequest.builder("mlp").id(longId).input(InferInput.fp32("x", new float[8], 1, 8)).build());
      }
      SpanContext missingParent = clientSpan();
      try (Scope ignored = Span.wrap(missingParent).makeCurrent()) {
        assertThatThrownBy(() -> client.infer(InferRequest.builder(longModel)
            .input(InferInput.fp32("x", new float[8], 1, 8)).build())).isInstanceOf(JunctionException.class);
      }
      var served = serverSpan(receiver, parent);
      assertThat(attribute(served, "junction.request.id")).contains("i".repeat(4096));
      var missing = serverSpan(receiver, missingParent);
      assertThat(attribute(missing, "rpc.grpc.status_code")).contains("5");
      assertThat(attribute(missing, "junction.model.name")).contains("m".repeat(4096));
    }
  }

  /**
   * The standard attribute count limit, which makes a traced call cheaper, keeps what an SRE needs: the RPC and its
   * status, the model and version that served, queue wait, batch size and compute time, however late in the call
   * each of them is known; the details (shapes, bytes, addresses) are what it drops.
   */
  @Test
  void anAttributeCountLimitKeepsTheAttributesThatMatter() throws Exception {
    DemoRepository.write(repo);
    try (OtlpReceiver receiver = new OtlpReceiver();
        JunctionServer server = new JunctionServer(ServerConfig.loopback(repo), Telemetry.autoconfigured(
            withCountLimit(exportTo(receiver, "always_on", null), 9))).start();
        JunctionClient client = JunctionClient.builder("127.0.0.1:" + server.grpcPort()).plaintext()
            .defaultDeadline(Duration.ofSeconds(20)).build()) {
      SpanContext parent = clientSpan();
      try (Scope ignored = Span.wrap(parent).makeCurrent()) {
        client.infer(InferRequest.builder("mlp").version(2).id("limited")
            .input(InferInput.fp32("x", new float[16], 2, 8)).build());
      }
      var span = serverSpan(receiver, parent);
      assertThat(span.getAttributesList()).extracting(a -> a.getKey()).containsExactlyInAnyOrder(
          "rpc.system", "rpc.method", "rpc.service", "rpc.grpc.status_code", "junction.model.name",
          "junction.model.version", "junction.queue.wait_us", "junction.batch.size", "junction.compute.infer_us");
      assertThat(attribute(span, "rpc.grpc.status_code")).contains("0");
      assertThat(attribute(span, "junction.model.version")).contains("2");
      assertThat(attribute(span, "junction.batch.size")).contains("2");
      // The request id, the peer, the requested version, rows, bytes, shapes, the copies' times, the server's address.
      assertThat(span.getDroppedAttributesCount()).isGreaterThanOrEqualTo(9);
    }
  }

  private static Map<String, String> withCountLimit(Map<String, String> settings, int limit) {
    settings.put("otel.span.attribute.count.limit", Integer.toString(limit));
    return settings;
  }

  @Test
  void callsContinueTheClientsTraceWithServerAndBatchSpans() throws Exception {
    DemoRepository.write(repo);
    // Batches held for their preferred size even while the instance is idle: otherwise calls that reach an idle
    // instance one by one run one by one, and whether 16 calls at once make a batch depends on how they arrive.
    new ModelRepositoryWriter(repo).model("batched", 1, Mlp.seeded(8, 4, 3).onnx()).config("batched", """
        max_batch_size: 32
        dynamic_batching { preferred_batch_size: [ 16 ] max_queue_delay_microseconds: 200000 }
        parameters { key: "batch_wait_while_idle" value: { string_value: "true" } }
        """);
    new ModelRepositoryWriter(repo).model("broken", 1, FixtureModels.failingAtRuntime());
    try (OtlpReceiver receiver = new OtlpReceiver();
        JunctionServer server = new JunctionServer(ServerConfig.loopback(repo),
            Telemetry.autoconfigured(exportTo(receiver, "parentbased_always_on", null))).start();
        JunctionClient client = JunctionClient.builder("127.0.0.1:" + server.grpcPort()).plaintext()
            .defaultDeadline(Duration.ofSeconds(20)).build()) {
      // One call inside a client span.
      SpanContext parent = clientSpan();
      InferResult result;
      try (Scope ignored = Span.wrap(parent).makeCurrent()) {
        result = client.infer(InferRequest.builder("mlp").version(1).id("traced-1")
            .input(InferInput.fp32("x", new float[8], 1, 8)).build());
      }
      assertThat(result.traceId()).contains(parent.getTraceId());
      var serverSpan = serverSpan(receiver, parent);
      assertThat(hex(serverSpan.getParentSpanId())).isEqualTo(parent.getSpanId());
      assertThat(serverSpan.getKind()).isEqualTo(io.opentelemetry.proto.trace.v1.Span.SpanKind.SPAN_KIND_SERVER);
      assertThat(attribute(serverSpan, "rpc.system")).contains("grpc");
      assertThat(attribute(serverSpan, "rpc.service")).contains("inference.GRPCInferenceService");
      assertThat(attribute(serverSpan, "rpc.method")).contains("ModelInfer");
      assertThat(attribute(serverSpan, "rpc.grpc.status_code")).contains("0");
      assertThat(attribute(serverSpan, "server.port")).contains(Integer.toString(server.grpcPort()));
      assertThat(attribute(serverSpan, "server.address")).contains("127.0.0.1");
      assertThat(attribute(serverSpan, "network.peer.address")).contains("127.0.0.1");
      assertThat(attribute(serverSpan, "error.type")).isEmpty();
      assertThat(attribute(serverSpan, "network.peer.address")).contains("127.0.0.1");
      assertThat(attribute(serverSpan, "junction.model.name")).contains("mlp");
      assertThat(attribute(serverSpan, "junction.model.version_requested")).contains("1");
      assertThat(attribute(serverSpan, "junction.model.version")).contains("1");
      assertThat(attribute(serverSpan, "junction.request.id")).contains("traced-1");
      assertThat(attribute(serverSpan, "junction.request.input_shapes")).contains("x[1, 8]");
      assertThat(attribute(serverSpan, "junction.request.input_bytes")).contains("32");
      assertThat(attribute(serverSpan, "junction.queue.wait_us")).isPresent();
      assertThat(attribute(serverSpan, "junction.compute.infer_us")).isPresent();
      assertThat(attribute(serverSpan, "junction.batch.size")).contains("1");
      // A batch of one request has no span of its own: its times are on the request's span.
      assertThat(attribute(serverSpan, "junction.batch.span_id")).isEmpty();
      assertThat(receiver.spans).noneSatisfy(s -> {
        assertThat(s.getName()).isEqualTo("junction.batch");
        assertThat(hex(s.getTraceId())).isEqualTo(parent.getTraceId());
      });
      assertThat(receiver.serviceNames).contains("junction");

      // Several calls at once on a batching model: one batch span linked to several request spans.
      List<CompletableFuture<InferResult>> calls = new ArrayList<>();
      for (int i = 0; i < 16; i++) {
        try (Scope ignored = Span.wrap(clientSpan()).makeCurrent()) {
          calls.add(client.inferAsync(InferRequest.builder("batched")
              .input(InferInput.fp32("x", new float[8], 1, 8)).build()));
        }
      }
      CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).get(20, TimeUnit.SECONDS);
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(receiver.spans).anySatisfy(s -> {
        assertThat(s.getName()).isEqualTo("junction.batch");
        assertThat(attribute(s, "junction.model.name")).contains("batched");
        assertThat(s.getLinksCount()).isGreaterThan(1);
        assertThat(Long.parseLong(attribute(s, "junction.batch.size").orElse("0"))).isEqualTo(s.getLinksCount());
      }));

      // A bad request: the server span records the status code.
      SpanContext badParent = clientSpan();
      try (Scope ignored = Span.wrap(badParent).makeCurrent()) {
        assertThatThrownBy(() -> client.infer(InferRequest.builder("mlp")
            .input(InferInput.fp32("x", new float[3], 1, 3)).build())).isInstanceOf(JunctionException.class);
      }
      var errorSpan = await().atMost(Duration.ofSeconds(10)).until(() -> receiver.spans.stream()
          .filter(s -> hex(s.getTraceId()).equals(badParent.getTraceId())).findFirst(),
          Optional::isPresent).orElseThrow();
      // A client's mistake is not a server error (OpenTelemetry's gRPC conventions): status unset, code recorded.
      assertThat(errorSpan.getStatus().getCode()).isEqualTo(StatusCode.STATUS_CODE_UNSET);
      assertThat(attribute(errorSpan, "rpc.grpc.status_code")).contains("3");

      // A failure of the server's: ERROR, with the status.
      SpanContext faultParent = clientSpan();
      try (Scope ignored = Span.wrap(faultParent).makeCurrent()) {
        assertThatThrownBy(() -> client.infer(InferRequest.builder("broken")
            .input(InferInput.fp32("x", new float[8], 1, 8)).build())).isInstanceOf(JunctionException.class);
      }
      var faultSpan = await().atMost(Duration.ofSeconds(10)).until(() -> receiver.spans.stream()
          .filter(s -> hex(s.getTraceId()).equals(faultParent.getTraceId())).findFirst(),
          Optional::isPresent).orElseThrow();
      assertThat(faultSpan.getStatus().getCode()).isEqualTo(StatusCode.STATUS_CODE_ERROR);
      assertThat(faultSpan.getStatus().getMessage()).containsAnyOf("INTERNAL", "UNAVAILABLE");
      assertThat(attribute(faultSpan, "error.type")).hasValueSatisfying(t -> assertThat(t).isIn("INTERNAL", "UNAVAILABLE"));
    }
  }

  @Test
  void theSamplingRatioIsHonoured() throws Exception {
    DemoRepository.write(repo);
    int calls = 200;
    try (OtlpReceiver receiver = new OtlpReceiver();
        JunctionServer server = new JunctionServer(ServerConfig.loopback(repo),
            Telemetry.autoconfigured(exportTo(receiver, "traceidratio", "0.25"))).start();
        JunctionClient client = JunctionClient.builder("127.0.0.1:" + server.grpcPort()).plaintext().build()) {
      for (int i = 0; i < calls; i++) {
        client.infer(InferRequest.builder("mlp").input(InferInput.fp32("x", new float[8], 1, 8)).build());
      }
      server.close(); // flushes the exporter
      long sampled = receiver.spans.stream().filter(s -> s.getName().equals(MODEL_INFER)).count();
      // Binomial(200, 0.25): mean 50, standard deviation 6.1; the bounds are about five deviations out.
      assertThat(sampled).isBetween(20L, 80L);
    }
  }

  @Test
  void everyCallSampledOrNotReturnsItsTraceIdOnceAndAFailedCallInItsTrailers() throws Exception {
    DemoRepository.write(repo);
    try (OtlpReceiver receiver = new OtlpReceiver();
        JunctionServer server = new JunctionServer(ServerConfig.loopback(repo),
            Telemetry.autoconfigured(exportTo(receiver, "traceidratio", "0"))).start()) {
      ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.grpcPort())
          .usePlaintext().build();
      try {
        var headers = new AtomicReference<Metadata>();
        var trailers = new AtomicReference<Metadata>();
        var stub = GRPCInferenceServiceGrpc.newBlockingStub(channel)
            .withInterceptors(MetadataUtils.newCaptureMetadataInterceptor(headers, trailers));
        var request = ModelInferRequest.newBuilder().setModelName("mlp")
            .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("x")
                .setDatatype("FP32").addShape(1).addShape(8).setContents(
                    InferTensorContents.newBuilder().addAllFp32Contents(
                        Collections.nCopies(8, 1f))))
            .build();

        stub.modelInfer(request);
        assertThat(headers.get().get(InferResult.TRACE_ID)).as("unsampled calls are still identified").hasSize(32);
        assertThat(trailers.get().get(InferResult.TRACE_ID)).as("said once, in the headers").isNull();

        assertThatThrownBy(() -> stub.modelInfer(request.toBuilder().setModelName("absent").build()));
        assertThat(trailers.get().get(InferResult.TRACE_ID)).as("a failure has no headers: the trailers say it")
            .hasSize(32);
      } finally {
        channel.shutdownNow();
      }
      server.close();
      assertThat(receiver.spans).as("ratio 0 exports nothing").isEmpty();
    }
  }

  @Test
  void batchesOfUnsampledCallsStartNoTrace() throws Exception {
    DemoRepository.write(repo);
    new ModelRepositoryWriter(repo).model("batched", 1, Mlp.seeded(8, 4, 3).onnx()).config("batched", """
        max_batch_size: 32
        dynamic_batching { preferred_batch_size: [ 8 ] max_queue_delay_microseconds: 100000 }
        """);
    try (OtlpReceiver receiver = new OtlpReceiver();
        JunctionServer server = new JunctionServer(ServerConfig.loopback(repo),
            Telemetry.autoconfigured(exportTo(receiver, "traceidratio", "0.25"))).start();
        JunctionClient client = JunctionClient.builder("127.0.0.1:" + server.grpcPort()).plaintext()
            .defaultDeadline(Duration.ofSeconds(20)).build()) {
      // 25 rounds of 8 concurrent calls: batches of several calls, some with a sampled call, some without.
      for (int round = 0; round < 25; round++) {
        List<CompletableFuture<InferResult>> calls = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
          calls.add(client.inferAsync(InferRequest.builder("batched").input(InferInput.fp32("x", new float[8], 1, 8))
              .build()));
        }
        CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).get(20, TimeUnit.SECONDS);
      }
      server.close(); // flushes the exporter
      Set<String> sampledTraces = receiver.spans.stream().filter(s -> s.getName().equals(MODEL_INFER))
          .map(s -> hex(s.getTraceId())).collect(Collectors.toSet());
      var batches = receiver.spans.stream().filter(s -> s.getName().equals("junction.batch")).toList();
      // Each batch span joins the trace of a sampled call it served; a batch of unsampled calls has none.
      assertThat(batches).isNotEmpty();
      assertThat(batches).allSatisfy(b -> assertThat(sampledTraces).contains(hex(b.getTraceId())));
    }
  }
}
