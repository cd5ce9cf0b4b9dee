package io.junction.server.it;

import static io.junction.server.InferRequests.rawFp32;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.junction.proto.admin.v1.CanaryStatus;
import io.junction.proto.admin.v1.GetRouteRequest;
import io.junction.proto.admin.v1.PutRouteRequest;
import io.junction.proto.admin.v1.RouteServiceGrpc;
import io.junction.proto.admin.v1.RouteSpec;
import io.junction.proto.admin.v1.ShadowSpec;
import io.junction.proto.inference.ModelInferRequest;
import io.junction.server.TestServer;
import io.junction.server.config.ServerConfig;
import io.junction.server.routing.Shadow;
import io.junction.testkit.DemoRepository;
import io.junction.testkit.FixtureModels;
import io.junction.testkit.ModelRepositoryWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Canaries promoted step by step when healthy, rolled back at once when they fail. */
class CanaryTest {
  private static final String TOKEN = "canary-test-token-0123456789";

  @TempDir Path dir;

  private static String route(String canaryModel, String canaryVersion) {
    return """
        routes:
          - name: scorer
            variants:
              - { name: stable, model: mlp, version: 1, weight: 100 }
              - { name: next, model: %s, version: "%s", weight: 0 }
            canary:
              variant: next
              baseline: stable
              steps: [25, 50, 100]
              min_requests: 20
              min_seconds: 0
              max_error_rate_increase: 0.05
              max_p99_ratio: 1000
        """.formatted(canaryModel, canaryVersion);
  }

  @Test
  void aFailingCanaryIsRolledBackAtOnce() throws Exception {
    Path repo = DemoRepository.write(dir.resolve("repo"));
    new ModelRepositoryWriter(repo).model("broken", 1, FixtureModels.failingAtRuntime());
    // The file gives the canary 5 %, as a file written for a canary would.
    String spec = route("broken", "1").replace("weight: 100 }", "weight: 95 }").replace("weight: 0 }", "weight: 5 }");
    Path routes = Files.writeString(dir.resolve("routes.yaml"), spec);
    ServerConfig config = ServerConfig.loopback(repo).withRoutesFile(routes).withAdminToken(TOKEN)
        .withStateDir(dir.resolve("state"));
    ModelInferRequest request = rawFp32("scorer", "", "x", new float[8], 1, 8);
    try (TestServer server = TestServer.start(config)) {
      await().atMost(Duration.ofSeconds(10)).until(() -> status(server).getState().equals("PROGRESSING"));
      int failures = 0;
      for (int i = 0; i < 400 && !status(server).getState().equals("ROLLED_BACK"); i++) {
        try {
          server.blocking().modelInfer(request);
        } catch (StatusRuntimeException e) {
          failures++;
        }
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> status(server).getState().equals("ROLLED_BACK"));
      assertThat(failures).as("the canary's requests failed").isPositive();
      CanaryStatus status = status(server);
      assertThat(status.getCanaryWeight()).isZero();
      assertThat(status.getReason()).contains("rolled back", "error rate");
      assertThat(status.getCanaryErrors()).isPositive();
      // After the rollback every request goes to the stable variant and succeeds.
      for (int i = 0; i < 50; i++) {
        assertThat(server.blocking().modelInfer(request).getModelName()).isEqualTo("mlp");
      }
      String metrics = new String(server.server().metricsScrape(), StandardCharsets.UTF_8);
      assertThat(metrics).contains("junction_canary_rollbacks_total 1.0");

      // An unrelated edit of the routes file does not undo the rollback.
      editElsewhere(server, routes, spec);
      for (int i = 0; i < 300; i++) {
        assertThat(server.blocking().modelInfer(request).getModelName()).isEqualTo("mlp");
      }
      assertThat(status(server).getState()).isEqualTo("ROLLED_BACK");
    }
    assertThat(dir.resolve("state/canaries.json")).content().contains("ROLLED_BACK");

    // A restart with the same state directory keeps the rollback: the bad model gets no traffic again.
    try (TestServer server = TestServer.start(config)) {
      for (int i = 0; i < 300; i++) {
        assertThat(server.blocking().modelInfer(request).getModelName()).as("call %d after the restart", i)
            .isEqualTo("mlp");
      }
      CanaryStatus status = status(server);
      assertThat(status.getState()).isEqualTo("ROLLED_BACK");
      assertThat(status.getCanaryWeight()).isZero();
      assertThat(status.getReason()).contains("restored after a restart", "rolled back", "error rate");
    }
  }

  @Test
  void theAdminApiSetsCanaryAndShadowAndAGetThenPutKeepsThem() throws Exception {
    Path repo = DemoRepository.write(dir.resolve("repo"));
    Path routes = Files.writeString(dir.resolve("routes.yaml"), route("mlp", "2").replace("min_requests: 20",
        "min_requests: 1000000"));
    try (TestServer server = TestServer.start(ServerConfig.loopback(repo).withRoutesFile(routes).withAdminToken(TOKEN))) {
      RouteServiceGrpc.RouteServiceBlockingStub admin = admin(server);
      await().atMost(Duration.ofSeconds(10)).until(() -> status(server).getState().equals("PROGRESSING"));
      RouteSpec fromFile = admin.getRoute(GetRouteRequest.newBuilder().setName("scorer").build());
      assertThat(fromFile.hasCanary()).isTrue();
      assertThat(fromFile.getCanary().getStepsList()).containsExactly(25.0, 50.0, 100.0);
      assertThat(fromFile.getCanary().getMinRequests()).isEqualTo(1_000_000);
      assertThat(fromFile.getVariants(1).getWeight()).as("the canary's first step").isEqualTo(25);

      // GET then PUT: the canary keeps its spec and its place, and gains a shadow.
      RouteSpec withShadow = fromFile.toBuilder()
          .setShadow(ShadowSpec.newBuilder().setModel("mlp").setVersion("1").setFraction(0.5)).build();
      admin.putRoute(PutRouteRequest.newBuilder().setRoute(withShadow).build());
      RouteSpec back = admin.getRoute(GetRouteRequest.newBuilder().setName("scorer").build());
      assertThat(back).isEqualTo(withShadow);
      assertThat(server.server().routes().current().route("scorer").orElseThrow().shadow())
          .contains(new Shadow("mlp", "1", 0.5));
      Thread.sleep(300); // a few canary ticks: an unchanged spec must not start again
      assertThat(status(server).getStep()).isEqualTo(1);
      assertThat(status(server).getCanaryWeight()).isEqualTo(25);

      // A canary set through the API alone starts, at its first step.
      admin.putRoute(PutRouteRequest.newBuilder().setRoute(withShadow.toBuilder().setName("api-scorer")
          .setCanary(withShadow.getCanary().toBuilder().clearSteps().addSteps(10).addSteps(100))).build());
      // Asked at once, before the controller's next evaluation has started it: starting, not "no canary".
      CanaryStatus justPut = admin.getCanaryStatus(GetRouteRequest.newBuilder().setName("api-scorer").build());
      assertThat(justPut.getState()).isIn("STARTING", "PROGRESSING");
      if (justPut.getState().equals("STARTING")) {
        assertThat(justPut.getStep()).isZero();
        assertThat(justPut.getReason()).contains("starts it at 10.0 %");
      }
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
        CanaryStatus s = admin.getCanaryStatus(GetRouteRequest.newBuilder().setName("api-scorer").build());
        assertThat(s.getState()).isEqualTo("PROGRESSING");
        assertThat(s.getCanaryWeight()).isEqualTo(10);
      });
      assertThatThrownBy(() -> admin.putRoute(PutRouteRequest.newBuilder().setRoute(withShadow.toBuilder()
              .setShadow(ShadowSpec.newBuilder().setModel("mlp").setVersion("9"))).build()))
          .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(e.getStatus().getDescription()).contains("route 'scorer'", "shadow", "version 9");
          });
    }
  }

  private static RouteServiceGrpc.RouteServiceBlockingStub admin(TestServer server) {
    return server.routeAdmin(TOKEN).withDeadlineAfter(5, TimeUnit.SECONDS);
  }

  @Test
  void aHealthyCanaryIsPromotedToAllTraffic() throws Exception {
    Path repo = DemoRepository.write(dir.resolve("repo"));
    Path routes = Files.writeString(dir.resolve("routes.yaml"), route("mlp", "2"));
    try (TestServer server = TestServer.start(ServerConfig.loopback(repo).withRoutesFile(routes).withAdminToken(TOKEN))) {
      ModelInferRequest request = rawFp32("scorer", "", "x", new float[8], 1, 8);
      await().atMost(Duration.ofSeconds(10)).until(() -> status(server).getState().equals("PROGRESSING"));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (!status(server).getState().equals("PROMOTED") && System.nanoTime() < deadline) {
        server.blocking().modelInfer(request); // every call must succeed
      }
      CanaryStatus status = status(server);
      assertThat(status.getState()).isEqualTo("PROMOTED");
      assertThat(status.getStep()).isEqualTo(3);
      assertThat(status.getCanaryWeight()).isEqualTo(100);
      for (int i = 0; i < 30; i++) {
        assertThat(server.blocking().modelInfer(request).getModelVersion()).as("all traffic on the canary").isEqualTo("2");
      }
      // An unrelated edit of the routes file does not undo the promotion.
      editElsewhere(server, routes, route("mlp", "2"));
      for (int i = 0; i < 100; i++) {
        assertThat(server.blocking().modelInfer(request).getModelVersion()).as("still all on the canary").isEqualTo("2");
      }
      assertThat(status(server).getState()).isEqualTo("PROMOTED");
    }
  }

  /** Adds another route to the file, leaving the canary's route as it was, and waits for the reload. */
  private static void editElsewhere(TestServer server, Path routes, String canaryRoute) throws Exception {
    Files.writeString(routes, canaryRoute + """
          - name: other
            variants:
              - { name: only, model: add_sub, weight: 100 }
        """);
    await().atMost(Duration.ofSeconds(15)).until(() -> server.server().routes().current().route("other").isPresent());
  }

  private static CanaryStatus status(TestServer server) {
    Metadata md = new Metadata();
    md.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + TOKEN);
    try {
      return RouteServiceGrpc.newBlockingStub(server.channel()).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md))
          .withDeadlineAfter(5, TimeUnit.SECONDS)
          .getCanaryStatus(GetRouteRequest.newBuilder().setName("scorer").build());
    } catch (StatusRuntimeException e) {
      return CanaryStatus.getDefaultInstance(); // not started yet
    }
  }
}
