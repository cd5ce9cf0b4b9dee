package io.junction.server.it;

import static io.junction.server.InferRequests.rawFp32;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.junction.proto.admin.v1.DeleteRouteRequest;
import io.junction.proto.admin.v1.ListRoutesRequest;
import io.junction.proto.admin.v1.PutRouteRequest;
import io.junction.proto.admin.v1.RouteServiceGrpc;
import io.junction.proto.admin.v1.RouteSpec;
import io.junction.proto.admin.v1.VariantSpec;
import io.junction.proto.inference.ModelInferRequest;
import io.junction.server.JunctionServer;
import io.junction.server.TestServer;
import io.junction.server.config.AdminAccess;
import io.junction.server.config.ServerConfig;
import io.junction.testkit.DemoRepository;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** Routes change while traffic flows, from the routes file and from the admin service; no call fails. */
class RouteUpdatesTest {
  private static final String TOKEN = "test-admin-token-0123456789";

  @TempDir Path dir;

  private static String routes(int weightV1, int weightV2) {
    return "routes:\n  - name: mlp-ab\n    variants:\n"
        + "      - { name: a, model: mlp, version: 1, weight: " + weightV1 + " }\n"
        + "      - { name: b, model: mlp, version: 2, weight: " + weightV2 + " }\n";
  }

  @Test
  void fileEditsAndAdminUpdatesUnderLoadLoseNoRequest() throws Exception {
    Path repo = DemoRepository.write(dir.resolve("repo"));
    Path file = Files.writeString(dir.resolve("routes.yaml"), routes(100, 0));
    try (TestServer server = TestServer.start(ServerConfig.loopback(repo).withRoutesFile(file).withAdminToken(TOKEN))) {
      ModelInferRequest request = rawFp32("mlp-ab", "", "x", new float[8], 1, 8);
      AtomicBoolean running = new AtomicBoolean(true);
      ConcurrentHashMap<String, AtomicInteger> seen = new ConcurrentHashMap<>();
      ExecutorService callers = Executors.newFixedThreadPool(8);
      List<Future<Integer>> results = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        results.add(callers.submit(() -> {
          int calls = 0;
          while (running.get()) {
            String version = server.blocking().modelInfer(request).getModelVersion(); // a failure throws here
            seen.computeIfAbsent(version, v -> new AtomicInteger()).incrementAndGet();
            calls++;
          }
          return calls;
        }));
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> seen.containsKey("1"));
      assertThat(seen).doesNotContainKey("2");

      // An edit of the routes file moves all traffic to version 2.
      Files.writeString(file, routes(0, 100));
      await().atMost(Duration.ofSeconds(15)).until(() -> seen.containsKey("2"));
      Thread.sleep(200); // calls routed before the reload finish first
      seen.clear();
      await().atMost(Duration.ofSeconds(5)).until(() -> seen.getOrDefault("2", new AtomicInteger()).get() > 50);
      assertThat(seen).doesNotContainKey("1");

      // The admin service moves it back; an invalid update changes nothing.
      RouteServiceGrpc.RouteServiceBlockingStub admin = admin(server, TOKEN);
      admin.putRoute(PutRouteRequest.newBuilder().setRoute(route(100, 0)).build());
      await().atMost(Duration.ofSeconds(5)).until(() -> seen.containsKey("1"));
      assertThatThrownBy(() -> admin.putRoute(PutRouteRequest.newBuilder().setRoute(route(100, 0).toBuilder()
              .setVariants(1, VariantSpec.newBuilder().setName("b").setModel("nope").setWeight(1))).build()))
          .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(e.getStatus().getDescription()).contains("route 'mlp-ab' rejected", "model 'nope'");
          });
      assertThat(admin.listRoutes(ListRoutesRequest.getDefaultInstance()).getRoutesList())
          .containsExactly(route(100, 0));
      Thread.sleep(300);
      running.set(false);
      int total = 0;
      for (Future<Integer> f : results) {
        total += f.get(30, TimeUnit.SECONDS);
      }
      callers.shutdown();
      assertThat(total).isPositive();

      assertThatThrownBy(() -> admin(server, "wrong-token-0123456789").listRoutes(ListRoutesRequest.getDefaultInstance()))
          .isInstanceOfSatisfying(StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
      admin.deleteRoute(DeleteRouteRequest.newBuilder().setName("mlp-ab").build());
      assertThatThrownBy(() -> server.blocking().modelInfer(request)).isInstanceOfSatisfying(StatusRuntimeException.class,
          e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
    }
  }

  @Test
  void withoutATokenThereIsNoAdminService() throws Exception {
    Path repo = DemoRepository.write(dir.resolve("repo"));
    try (TestServer server = TestServer.start(repo)) {
      assertThatThrownBy(() -> admin(server, TOKEN).listRoutes(ListRoutesRequest.getDefaultInstance()))
          .isInstanceOfSatisfying(StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNIMPLEMENTED));
    }
  }

  @Test
  void theAdminServiceCanHaveALoopbackListenerOfItsOwn() throws Exception {
    Path repo = DemoRepository.write(dir.resolve("repo"));
    ServerConfig config = ServerConfig.loopback(repo)
        .withAdmin(AdminAccess.NONE.withToken(TOKEN).withListener("127.0.0.1", 0));
    try (TestServer server = TestServer.start(config)) {
      assertThatThrownBy(() -> admin(server, TOKEN).listRoutes(ListRoutesRequest.getDefaultInstance()))
          .as("not on the inference port").isInstanceOfSatisfying(StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNIMPLEMENTED));
      ManagedChannel adminChannel = ManagedChannelBuilder
          .forAddress("127.0.0.1", server.server().adminPort().orElseThrow()).usePlaintext().build();
      try {
        Metadata md = new Metadata();
        md.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + TOKEN);
        RouteServiceGrpc.RouteServiceBlockingStub stub = RouteServiceGrpc.newBlockingStub(adminChannel)
            .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md)).withDeadlineAfter(10, TimeUnit.SECONDS);
        stub.putRoute(PutRouteRequest.newBuilder().setRoute(route(100, 0)).build());
        assertThat(stub.listRoutes(ListRoutesRequest.getDefaultInstance()).getRoutesList()).containsExactly(route(100, 0));
        assertThat(server.blocking().modelInfer(rawFp32("mlp-ab", "", "x", new float[8], 1, 8)).getModelVersion())
            .as("the route set on the admin port serves on the inference port").isEqualTo("1");
        assertThatThrownBy(() -> RouteServiceGrpc.newBlockingStub(adminChannel).listRoutes(ListRoutesRequest.getDefaultInstance()))
            .isInstanceOfSatisfying(StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
      } finally {
        adminChannel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void aTokenThatWouldTravelInPlaintextIsWarnedAbout() throws Exception {
    Path repo = DemoRepository.write(dir.resolve("repo"));
    ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) LoggerFactory
        .getLogger(JunctionServer.class);
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> lines =
        new ch.qos.logback.core.read.ListAppender<>();
    lines.start();
    logger.addAppender(lines);
    try {
      ServerConfig open = ServerConfig.loopback(repo).withAdminToken(TOKEN);
      open = new ServerConfig(open.modelRepository(), "0.0.0.0", 0, open.httpAddress(), open.httpPort(), open.cpuSlots(),
          open.maxQueueSize(), open.streamWindow(), open.defaultMaxBatchSize(), open.strictReadiness(), open.limits(),
          open.tls(), open.control(), open.routesFile(), open.admin(), open.stateDir(), open.httpLimits(), open.payloadLog(), open.drift(), open.devices(), open.feedback(), open.statusPage(), open.metrics(), open.responseCacheBytes());
      try (TestServer server = TestServer.start(open)) {
        assertThat(lines.list).anySatisfy(e -> assertThat(e.getFormattedMessage())
            .contains("the admin token travels unencrypted", "0.0.0.0", "--admin-port"));
      }
      lines.list.clear();
      try (TestServer server = TestServer.start(ServerConfig.loopback(repo).withAdminToken(TOKEN))) {
        assertThat(lines.list).noneSatisfy(e -> assertThat(e.getFormattedMessage()).contains("travels unencrypted"));
      }
    } finally {
      logger.detachAppender(lines);
    }
  }

  private static RouteSpec route(double v1, double v2) {
    return RouteSpec.newBuilder().setName("mlp-ab")
        .addVariants(VariantSpec.newBuilder().setName("a").setModel("mlp").setVersion("1").setWeight(v1))
        .addVariants(VariantSpec.newBuilder().setName("b").setModel("mlp").setVersion("2").setWeight(v2)).build();
  }

  private static RouteServiceGrpc.RouteServiceBlockingStub admin(TestServer server, String token) {
    return server.routeAdmin(token).withDeadlineAfter(10, TimeUnit.SECONDS);
  }
}
