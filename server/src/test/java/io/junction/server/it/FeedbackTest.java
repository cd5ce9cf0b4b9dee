package io.junction.server.it;

import static io.junction.server.InferRequests.rawFp32;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import io.grpc.stub.StreamObserver;
import io.junction.proto.admin.v1.GetRouteRequest;
import io.junction.proto.admin.v1.OutcomeComparison;
import io.junction.proto.admin.v1.OutcomeStatus;
import io.junction.proto.admin.v1.RouteServiceGrpc;
import io.junction.proto.admin.v1.RouteStatus;
import io.junction.proto.feedback.v1.FeedbackServiceGrpc;
import io.junction.proto.feedback.v1.Outcome;
import io.junction.proto.feedback.v1.RecordRequest;
import io.junction.proto.feedback.v1.RecordResponse;
import io.junction.proto.inference.InferParameter;
import io.junction.proto.inference.ModelInferRequest;
import io.junction.proto.inference.ModelInferResponse;
import io.junction.server.TestServer;
import io.junction.server.config.ServerConfig;
import io.junction.testkit.DemoRepository;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A/B on a business outcome over the wire: routed requests, conversions reported as feedback (gRPC and
 * REST), and the route's status saying which variant converts better, with what confidence.
 */
class FeedbackTest {
  private static final String TOKEN = "feedback-test-token-0123456789";

  @TempDir Path dir;

  /** A server on the demo repository with these routes and the admin token. */
  private TestServer start(String routesYaml) throws Exception {
    Path repo = DemoRepository.write(dir.resolve("repo"));
    Path routes = Files.writeString(dir.resolve("routes.yaml"), routesYaml);
    return TestServer.start(ServerConfig.loopback(repo).withRoutesFile(routes).withAdminToken(TOKEN));
  }

  @Test
  void twelvePercentAgainstTenIsCalledAndEqualRatesAreNot() throws Exception {
    try (TestServer server = start("""
        routes:
          - name: scorer
            variants:
              - { name: a, model: mlp, version: 1, weight: 50 }
              - { name: b, model: mlp, version: 2, weight: 50 }
          - name: same
            variants:
              - { name: a, model: mlp, version: 1, weight: 50 }
              - { name: b, model: mlp, version: 2, weight: 50 }
        """)) {
      // Routing keys make each request's variant the same on every run; the users' conversions are drawn
      // from a seeded generator: b converts at 12 %, a at 10 %.
      Map<String, String> scorer = send(server, "scorer", 16_000);
      Map<String, String> same = send(server, "same", 4_000);
      assertThat(scorer.values()).contains("a", "b");

      SplittableRandom random = new SplittableRandom(2026);
      List<Outcome> clicks = new ArrayList<>();
      scorer.forEach((id, variant) -> clicks.add(click(id, random.nextDouble() < (variant.equals("b") ? 0.12 : 0.10))));
      same.forEach((id, variant) -> clicks.add(click(id, random.nextDouble() < 0.10)));
      FeedbackServiceGrpc.FeedbackServiceBlockingStub feedback = FeedbackServiceGrpc.newBlockingStub(server.channel());
      long accepted = 0;
      for (int i = 0; i < clicks.size(); i += 5_000) {
        RecordResponse r = feedback.record(RecordRequest.newBuilder()
            .addAllOutcomes(clicks.subList(i, Math.min(clicks.size(), i + 5_000))).build());
        accepted += r.getAccepted();
        assertThat(r.getRejected()).isZero();
      }
      assertThat(accepted).isEqualTo(20_000);

      RouteStatus status = admin(server).getRouteStatus(GetRouteRequest.newBuilder().setName("scorer").build());
      assertThat(status.getVariantsList()).extracting(v -> v.getName() + "=" + v.getWeight()).containsExactly("a=50.0", "b=50.0");
      OutcomeStatus click = status.getOutcomes(0);
      assertThat(click.getOutcome()).isEqualTo("click");
      assertThat(click.getVariantsList()).allSatisfy(v -> {
        assertThat(v.getBinary()).isTrue();
        assertThat(v.getCiLow()).isLessThan(v.getMean());
        assertThat(v.getCiHigh()).isGreaterThan(v.getMean());
      });
      assertThat(click.getVariants(0).getCount() + click.getVariants(1).getCount()).isEqualTo(16_000);
      OutcomeComparison bVsA = click.getComparisons(0);
      assertThat(bVsA.getVariant()).isEqualTo("b");
      assertThat(bVsA.getControl()).isEqualTo("a");
      assertThat(bVsA.getTest()).isEqualTo("two-proportion z");
      assertThat(bVsA.getPValue()).isLessThan(0.05);
      assertThat(bVsA.getSignificant()).isTrue();
      assertThat(bVsA.getDifference()).isCloseTo(0.02, within(0.012));
      assertThat(bVsA.getCiLow()).isPositive();

      OutcomeComparison equal = admin(server).getRouteStatus(GetRouteRequest.newBuilder().setName("same").build())
          .getOutcomes(0).getComparisons(0);
      assertThat(equal.getSignificant()).as("p = %s", equal.getPValue()).isFalse();
      assertThat(equal.getCiLow()).isNegative();
      assertThat(equal.getCiHigh()).isPositive();

      String metrics = get(server, "/metrics");
      assertThat(metrics).contains("junction_outcome_total{outcome=\"click\",route=\"scorer\",variant=\"b\"} "
          + click.getVariants(1).getCount() + ".0").contains("junction_feedback_total{result=\"accepted\"} 20000.0");
    }
  }

  @Test
  void feedbackSentAsSoonAsTheAnswerArrivesFindsItsCall() throws Exception {
    try (TestServer server = start("""
        routes:
          - name: scorer
            variants:
              - { name: a, model: mlp, version: 1, weight: 100 }
        """)) {
      FeedbackServiceGrpc.FeedbackServiceBlockingStub feedback = FeedbackServiceGrpc.newBlockingStub(server.channel());
      for (int i = 0; i < 200; i++) {
        String id = "at-once-" + i;
        server.blocking().modelInfer(rawFp32("scorer", "", "x", new float[8], 1, 8).toBuilder().setId(id).build());
        RecordResponse r = feedback.record(RecordRequest.newBuilder().addOutcomes(click(id, true)).build());
        assertThat(r.getAccepted()).as("feedback on call %d, sent as soon as its answer came", i).isEqualTo(1);
      }
    }
  }

  @Test
  void restFeedbackJoinsByTheCallersIdOrTheTraceIdAndCountsWhatItCannotJoin() throws Exception {
    try (TestServer server = start("""
        routes:
          - name: scorer
            variants:
              - { name: only, model: mlp, version: 1, weight: 1 }
        """)) {
      ModelInferRequest.Builder call = rawFp32("scorer", "", "x", new float[8], 1, 8).toBuilder().setId("order-17");
      server.blocking().modelInfer(call.build());
      server.blocking().modelInfer(rawFp32("mlp", "1", "x", new float[8], 1, 8).toBuilder().setId("direct").build());

      HttpResponse<String> one = post(server, "{\"request_id\": \"order-17\", \"outcome\": \"revenue\", \"value\": 42.5}");
      assertThat(one.statusCode()).isEqualTo(200);
      assertThat(one.body()).isEqualTo("{\"accepted\":1,\"unknown\":0,\"expired\":0,\"rejected\":0,\"problems\":[]}");
      HttpResponse<String> batch = post(server, """
          {"outcomes": [
            {"request_id": "order-17", "outcome": "revenue", "value": 7.5},
            {"request_id": "direct", "outcome": "revenue", "value": 1},
            {"request_id": "never-seen", "outcome": "revenue", "value": 1},
            {"request_id": "order-17", "outcome": "no spaces allowed", "value": 1}
          ]}""");
      assertThat(batch.statusCode()).isEqualTo(200);
      assertThat(batch.body()).contains("\"accepted\":1", "\"unknown\":2", "\"rejected\":1")
          .contains("outcome must be 1 to 64 letters");
      HttpResponse<String> notJson = post(server, "{not json");
      assertThat(notJson.statusCode()).isEqualTo(400);
      assertThat(notJson.body()).contains("feedback body must be", "line 1 column").doesNotContain("https://", "LENIENT");
      assertThat(post(server, "{\"outcomes\": []}").statusCode()).isEqualTo(400);

      RouteStatus status = admin(server).getRouteStatus(GetRouteRequest.newBuilder().setName("scorer").build());
      var revenue = status.getOutcomes(0).getVariants(0);
      assertThat(revenue.getCount()).isEqualTo(2);
      assertThat(revenue.getMean()).isEqualTo(25.0);
      assertThat(revenue.getBinary()).isFalse();
      assertThat(get(server, "/metrics")).contains("junction_feedback_total{result=\"unknown\"} 2.0",
          "junction_feedback_total{result=\"rejected\"} 1.0");
    }
  }

  private static String canaryRoute() {
    return """
        routes:
          - name: scorer
            variants:
              - { name: stable, model: mlp, version: 1, weight: 100 }
              - { name: next, model: mlp, version: 2, weight: 0 }
            canary:
              variant: next
              baseline: stable
              steps: [50, 100]
              min_requests: 20
              min_seconds: 0
              max_error_rate_increase: 1
              max_p99_ratio: 1000
              business_slo: { outcome: click, max_decrease: 0.0, min_samples: 200 }
        """;
  }

  /** Reports a click for each request, at {@code rate} of those the variant answered and 10 % of the others. */
  private static void reportClicks(TestServer server, Map<String, String> answered, String variant, double rate,
      long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    List<Outcome> clicks = new ArrayList<>();
    answered.forEach((id, v) -> clicks.add(click(id, random.nextDouble() < (v.equals(variant) ? rate : 0.10))));
    assertThat(FeedbackServiceGrpc.newBlockingStub(server.channel())
        .record(RecordRequest.newBuilder().addAllOutcomes(clicks).build()).getAccepted()).isEqualTo(clicks.size());
  }

  @Test
  void aCanaryWithABusinessSloWaitsForTheOutcomeAndMovesOnWhenItIsNoWorse() throws Exception {
    try (TestServer server = start(canaryRoute())) {
      var admin = admin(server);
      await().atMost(Duration.ofSeconds(10)).ignoreExceptions().until(() -> admin.getCanaryStatus(
          GetRouteRequest.newBuilder().setName("scorer").build()).getCanaryWeight() == 50);
      Map<String, String> first = send(server, "scorer", 1_000);
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(admin.getCanaryStatus(
          GetRouteRequest.newBuilder().setName("scorer").build()).getReason())
          .contains("business SLO needs 200 'click' values per variant (canary 0, baseline 0)"));
      assertThat(admin.getCanaryStatus(GetRouteRequest.newBuilder().setName("scorer").build()).getStep()).isEqualTo(1);

      reportClicks(server, first, "next", 0.30, 1); // the canary converts far better
      await().atMost(Duration.ofSeconds(10)).ignoreExceptions().until(() -> admin.getCanaryStatus(
          GetRouteRequest.newBuilder().setName("scorer").build()).getStep() == 2);
      send(server, "scorer", 100);
      await().atMost(Duration.ofSeconds(10)).ignoreExceptions().until(() -> admin.getCanaryStatus(
          GetRouteRequest.newBuilder().setName("scorer").build()).getState().equals("PROMOTED"));
    }
  }

  @Test
  void aCanaryShownToConvertWorseIsRolledBack() throws Exception {
    try (TestServer server = start(canaryRoute())) {
      var admin = admin(server);
      await().atMost(Duration.ofSeconds(10)).ignoreExceptions().until(() -> admin.getCanaryStatus(
          GetRouteRequest.newBuilder().setName("scorer").build()).getCanaryWeight() == 50);
      Map<String, String> answered = send(server, "scorer", 2_000);
      reportClicks(server, answered, "next", 0.01, 2); // 1 % against the baseline's 10 %
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
        var status = admin.getCanaryStatus(GetRouteRequest.newBuilder().setName("scorer").build());
        assertThat(status.getState()).isEqualTo("ROLLED_BACK");
        assertThat(status.getCanaryWeight()).isZero();
        assertThat(status.getReason()).contains("business SLO: its 'click' is below the baseline's by more than 0.0");
      });
    }
  }

  @Test
  void aBanditRouteShiftsTrafficToTheVariantThatConvertsBetter() throws Exception {
    try (TestServer server = start("""
        routes:
          - name: scorer
            variants:
              - { name: a, model: mlp, version: 1, weight: 50 }
              - { name: b, model: mlp, version: 2, weight: 50 }
            bandit: { outcome: click, min_share: 0.1, min_samples: 500 }
        """)) {
      Map<String, String> answered = send(server, "scorer", 1_000);
      reportClicks(server, answered, "b", 0.30, 3); // b converts at 30 %, a at 10 %
      var admin = admin(server);
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
        RouteStatus status = admin.getRouteStatus(GetRouteRequest.newBuilder().setName("scorer").build());
        assertThat(status.getVariants(1).getWeight()).as("b's share").isGreaterThan(85);
        assertThat(status.getVariants(0).getWeight()).as("a keeps its minimum share").isGreaterThanOrEqualTo(10);
      });
      assertThat(get(server, "/metrics")).contains("junction_bandit_weight{route=\"scorer\",variant=\"a\"}");
    }
  }

  private static Outcome click(String id, boolean clicked) {
    return Outcome.newBuilder().setRequestId(id).setOutcome("click").setValue(clicked ? 1 : 0).build();
  }

  /** Sends {@code n} requests to a route with ids and routing keys; their ids to the variant that answered. */
  private static Map<String, String> send(TestServer server, String route, int n) throws Exception {
    Map<String, String> variants = new ConcurrentHashMap<>();
    Semaphore inFlight = new Semaphore(64);
    CountDownLatch done = new CountDownLatch(n);
    for (int i = 0; i < n; i++) {
      String id = route + "-" + i;
      ModelInferRequest request = rawFp32(route, "", "x", new float[8], 1, 8).toBuilder().setId(id)
          .putParameters("routing_key", InferParameter.newBuilder().setStringParam("user-" + i).build()).build();
      inFlight.acquire();
      server.async().modelInfer(request, new StreamObserver<>() {
        @Override
        public void onNext(ModelInferResponse r) {
          variants.put(id, r.getParametersMap().get("junction_variant").getStringParam());
        }

        @Override
        public void onError(Throwable t) {
          inFlight.release();
          done.countDown();
        }

        @Override
        public void onCompleted() {
          inFlight.release();
          done.countDown();
        }
      });
    }
    assertThat(done.await(120, TimeUnit.SECONDS)).isTrue();
    assertThat(variants).hasSize(n);
    return variants;
  }

  private static RouteServiceGrpc.RouteServiceBlockingStub admin(TestServer server) {
    return server.routeAdmin(TOKEN).withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  private static HttpResponse<String> post(TestServer server, String body) throws Exception {
    int port = server.server().httpPort().orElseThrow();
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v2/feedback"))
        .POST(HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json").build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static String get(TestServer server, String path) throws Exception {
    int port = server.server().httpPort().orElseThrow();
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
        HttpResponse.BodyHandlers.ofString()).body();
  }
}
