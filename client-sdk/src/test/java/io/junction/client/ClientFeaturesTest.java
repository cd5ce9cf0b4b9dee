package io.junction.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientStreamTracer;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.junction.server.JunctionServer;
import io.junction.server.config.ModelControl;
import io.junction.server.config.ServerConfig;
import io.junction.testkit.DeepMlp;
import io.junction.testkit.DemoRepository;
import io.junction.testkit.ModelRepositoryWriter;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the client offers beyond plain calls, against a real server: per-call deadlines and cancellation,
 * request parameters, routing, the typed stream with back-pressure, the repository and statistics calls,
 * interceptors and retries.
 */
class ClientFeaturesTest {
  @TempDir static Path dir;
  static JunctionServer server;
  static JunctionClient client;

  @BeforeAll
  static void start() throws Exception {
    Path repo = DemoRepository.write(dir.resolve("repo"));
    // One instance that a batch of 4096 rows keeps busy for a second or so: what comes meanwhile waits.
    new ModelRepositoryWriter(repo).model("slow", 1, DeepMlp.seeded(5, 8, 2048, 2048, 2048, 4).onnx()).config("slow",
        "max_batch_size: 4096\ninstance_group [ { count: 1, kind: KIND_CPU } ]\n"
            + "dynamic_batching { default_queue_policy { allow_timeout_override: true } }\n");
    Path routes = dir.resolve("routes.yaml");
    Files.writeString(routes, """
        routes:
          - name: scorer
            variants:
              - { name: stable, model: mlp, version: 1, weight: 50 }
              - { name: next, model: mlp, version: 2, weight: 50 }
        """);
    server = new JunctionServer(ServerConfig.loopback(repo).withRoutesFile(routes)
        .withControl(ModelControl.explicit(Set.of("*"))).withOpenRepositoryApi()).start();
    client = JunctionClient.builder("127.0.0.1:" + server.grpcPort()).plaintext().build();
  }

  @AfterAll
  static void stop() {
    client.close();
    server.close();
  }

  /** Starts a batch that keeps the slow model's one instance busy, and waits until it runs. */
  private static CompletableFuture<InferResult> busy() {
    CompletableFuture<InferResult> blocker = client.inferAsync(InferRequest.builder("slow")
        .input(InferInput.fp32("x", new float[4096 * 8], 4096, 8)).build());
    await().atMost(Duration.ofSeconds(5)).until(() ->
        metric("junction_inflight_requests{model=\"slow\",version=\"1\"}") == 1
            && metric("nv_inference_pending_request_count{model=\"slow\",version=\"1\"}") == 0);
    return blocker;
  }

  private static InferRequest.Builder slow() {
    return InferRequest.builder("slow").input(InferInput.fp32("x", new float[8], 1, 8));
  }

  private static InferRequest.Builder mlp(String id) {
    return InferRequest.builder("mlp").id(id).input(InferInput.fp32("x", new float[8], 1, 8));
  }

  @Test
  void aCallsOwnDeadlineEndsIt() {
    CompletableFuture<InferResult> blocker = busy();
    assertThatThrownBy(() -> client.infer(slow().deadline(Duration.ofMillis(200)).build()))
        .isInstanceOfSatisfying(JunctionException.class, e -> assertThat(e.code()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));
    assertThat(blocker).as("ended while the batch ahead of it still ran").isNotDone();
    blocker.join();
  }

  @Test
  void cancellingTheFutureCancelsTheCallOnTheServer() throws Exception {
    double cancelledBefore = metric("nv_inference_request_failure{model=\"slow\",version=\"1\",reason=\"CANCELED\"}");
    CompletableFuture<InferResult> blocker = busy();
    CompletableFuture<InferResult> pending = client.inferAsync(slow().build());
    await().atMost(Duration.ofSeconds(5)).until(() -> metric("nv_inference_pending_request_count{model=\"slow\",version=\"1\"}") == 1);
    pending.cancel(true);
    assertThatThrownBy(pending::join).isInstanceOf(CancellationException.class);
    await().atMost(Duration.ofSeconds(2)).untilAsserted(() -> {
      assertThat(metric("nv_inference_pending_request_count{model=\"slow\",version=\"1\"}")).isZero();
      assertThat(metric("nv_inference_request_failure{model=\"slow\",version=\"1\",reason=\"CANCELED\"}"))
          .isEqualTo(cancelledBefore + 1);
    });
    blocker.join();
  }

  @Test
  void requestParametersReachTheServer() {
    CompletableFuture<InferResult> blocker = busy();
    assertThatThrownBy(() -> client.infer(slow().queueTimeout(Duration.ofMillis(100)).build()))
        .isInstanceOfSatisfying(JunctionException.class, e -> assertThat(e.serverMessage()).contains("waited"));
    assertThat(blocker).as("rejected by its queue timeout while the batch ahead of it still ran").isNotDone();
    blocker.join();
    assertThat(client.infer(mlp("p").priority(1).build()).id()).isEqualTo("p");
    assertThatThrownBy(() -> client.infer(mlp("q").parameter("priority", InferParameter.ofString("high")).build()))
        .isInstanceOfSatisfying(JunctionException.class, e -> {
          assertThat(e.code()).isEqualTo(Status.Code.INVALID_ARGUMENT);
          assertThat(e.serverMessage()).contains("priority");
        });
  }

  @Test
  void routingKeysStickPinsChooseAndTheAnswerSaysWhoServed() {
    List<String> variants = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      InferResult r = client.infer(InferRequest.builder("scorer").routingKey("user-42")
          .input(InferInput.fp32("x", new float[8], 1, 8)).build());
      assertThat(r.route()).contains("scorer");
      variants.add(r.variant().orElseThrow());
    }
    assertThat(variants).as("one key, one variant").containsOnly(variants.get(0));
    InferResult pinned = client.infer(InferRequest.builder("scorer").variant("next")
        .input(InferInput.fp32("x", new float[8], 1, 8)).build());
    assertThat(pinned.variant()).contains("next");
    assertThat(pinned.modelVersion()).isEqualTo("2");
  }

  @Test
  void theStreamAnswersInOrderFailsOnlyTheBadRequestAndHoldsBackAFastProducer() throws Exception {
    List<CompletableFuture<InferResult>> answers = new ArrayList<>();
    int most = 0;
    try (InferStream stream = client.inferStream(Map.of(InferRequest.ROUTING_KEY_HEADER, "user-7"))) {
      for (int i = 0; i < 300; i++) {
        InferRequest request = i == 150
            ? InferRequest.builder("mlp").id("bad").input(InferInput.fp32("x", new float[7], 1, 7)).build()
            : mlp("r" + i).build();
        answers.add(stream.send(request));
        most = Math.max(most, stream.outstanding());
      }
    }
    assertThat(most).as("never more outstanding than the stream allows").isLessThanOrEqualTo(64);
    for (int i = 0; i < answers.size(); i++) {
      if (i == 150) {
        int index = i;
        assertThatThrownBy(() -> answers.get(index).get()).isInstanceOf(ExecutionException.class)
            .cause().isInstanceOfSatisfying(JunctionException.class,
                e -> assertThat(e.code()).isEqualTo(Status.Code.INVALID_ARGUMENT));
      } else {
        assertThat(answers.get(i).get().id()).isEqualTo("r" + i);
      }
    }
  }

  @Test
  void configStatisticsAndTheRepository() {
    assertThat(client.modelConfig("mlp").getMaxBatchSize()).isEqualTo(64);
    client.infer(mlp("s").version(1).build());
    assertThat(client.modelStatistics("mlp", "1")).singleElement()
        .satisfies(s -> assertThat(s.getInferenceStats().getSuccess().getCount()).isPositive());
    assertThat(client.repositoryIndex()).anySatisfy(m -> assertThat(m)
        .extracting(RepositoryModel::name, RepositoryModel::version, RepositoryModel::state)
        .containsExactly("mlp", "1", "READY"));

    client.unloadModel("add_sub");
    assertThat(client.isModelReady("add_sub")).isFalse();
    client.loadModel("add_sub");
    assertThat(client.isModelReady("add_sub")).isTrue();
  }

  @Test
  void interceptorsSeeEveryCallAndRetriesRetryUnavailableCalls() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    AtomicInteger attempts = new AtomicInteger();
    ClientInterceptor counting = new ClientInterceptor() {
      @Override
      public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
        calls.incrementAndGet();
        return next.newCall(method, options.withStreamTracerFactory(new ClientStreamTracer.Factory() {
          @Override
          public ClientStreamTracer newClientStreamTracer(ClientStreamTracer.StreamInfo info, Metadata headers) {
            attempts.incrementAndGet();
            return new ClientStreamTracer() {};
          }
        }));
      }
    };
    try (JunctionClient intercepted = JunctionClient.builder("127.0.0.1:" + server.grpcPort()).plaintext()
        .intercept(counting).build()) {
      intercepted.infer(mlp("i").build());
      assertThat(calls.get()).isEqualTo(1);
    }
    int unused;
    try (ServerSocket s = new ServerSocket(0)) {
      unused = s.getLocalPort();
    }
    calls.set(0);
    attempts.set(0);
    try (JunctionClient retrying = JunctionClient.builder("127.0.0.1:" + unused).plaintext().intercept(counting)
        .retry(new RetryPolicy(3, Duration.ofMillis(10), Duration.ofMillis(50), 2, Set.of(Status.Code.UNAVAILABLE)))
        .build()) {
      assertThatThrownBy(() -> retrying.infer(mlp("u").build())).isInstanceOfSatisfying(JunctionException.class,
          e -> assertThat(e.code()).isEqualTo(Status.Code.UNAVAILABLE));
    }
    assertThat(calls.get()).isEqualTo(1);
    assertThat(attempts.get()).as("attempts of the one call").isEqualTo(3);
  }

  private static double metric(String series) throws Exception {
    String text = new String(server.metricsScrape(), StandardCharsets.UTF_8);
    // The server sorts labels by name.
    String sorted = sortLabels(series);
    return text.lines().filter(l -> l.startsWith(sorted + " "))
        .mapToDouble(l -> Double.parseDouble(l.substring(sorted.length() + 1))).findFirst().orElse(0);
  }

  private static String sortLabels(String series) {
    int brace = series.indexOf('{');
    if (brace < 0) {
      return series;
    }
    List<String> labels = new ArrayList<>(List.of(series.substring(brace + 1, series.length() - 1).split(",")));
    Collections.sort(labels);
    return series.substring(0, brace) + "{" + String.join(",", labels) + "}";
  }
}
