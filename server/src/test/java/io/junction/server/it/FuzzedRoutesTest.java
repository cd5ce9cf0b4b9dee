package io.junction.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.junction.proto.admin.v1.BanditSpec;
import io.junction.proto.admin.v1.BusinessSloSpec;
import io.junction.proto.admin.v1.CanarySpec;
import io.junction.proto.admin.v1.DeleteRouteRequest;
import io.junction.proto.admin.v1.GetRouteRequest;
import io.junction.proto.admin.v1.ListRoutesRequest;
import io.junction.proto.admin.v1.PutRouteRequest;
import io.junction.proto.admin.v1.RouteServiceGrpc;
import io.junction.proto.admin.v1.RouteSpec;
import io.junction.proto.admin.v1.RuleSpec;
import io.junction.proto.admin.v1.ShadowSpec;
import io.junction.proto.admin.v1.VariantSpec;
import io.junction.proto.inference.ModelInferRequest;
import io.junction.server.InferRequests;
import io.junction.server.TestServer;
import io.junction.server.config.ServerConfig;
import io.junction.testkit.DemoRepository;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Route specs made at random, sensible and not (weights, canary steps, durations and fractions that are NaN,
 * infinite, negative or huge; variants, rules and canaries naming what does not exist; everything at once), put
 * through the admin service: each is taken or refused with a client's status, never a server fault; a route taken
 * answers its status and its calls (served, or refused with a client's status); deleting it leaves the server as
 * it was. Seeded like {@link FuzzedRequestsTest} ({@code -Djunction.fuzz.seed}, {@code -Djunction.fuzz.requests}).
 */
class FuzzedRoutesTest {
  private static final String TOKEN = "fuzzed-routes-token-0123456789";
  private static final long SEED = Long.getLong("junction.fuzz.seed", 20261203L);
  private static final int SPECS = Integer.getInteger("junction.fuzz.requests", 1500) / 3;
  private static final Set<Status.Code> REFUSALS = Set.of(Status.Code.INVALID_ARGUMENT, Status.Code.NOT_FOUND,
      Status.Code.FAILED_PRECONDITION, Status.Code.OUT_OF_RANGE, Status.Code.ALREADY_EXISTS);
  private static final Set<Status.Code> CALL_REFUSALS = Set.of(Status.Code.INVALID_ARGUMENT, Status.Code.NOT_FOUND,
      Status.Code.FAILED_PRECONDITION, Status.Code.UNAVAILABLE, Status.Code.RESOURCE_EXHAUSTED);
  private static final List<Double> NUMBERS = List.of(0.0, 1.0, 0.5, -1.0, 100.0, 1e300, -1e300, Double.NaN,
      Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.MIN_VALUE, 3.0);
  private static final List<String> NAMES = List.of("a", "b", "c", "", "mlp", "..", "a b", "x".repeat(300), "\u00e9");
  private static final List<String> MODELS = List.of("mlp", "add_sub", "nope", "", "../mlp");
  private static final List<String> VERSIONS = List.of("", "1", "2", "3", "-1", "abc");

  @TempDir static Path dir;
  static TestServer server;
  static RouteServiceGrpc.RouteServiceBlockingStub admin;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start(ServerConfig.loopback(DemoRepository.write(dir.resolve("repo"))).withAdminToken(TOKEN));
    admin = server.routeAdmin(TOKEN);
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void routeSpecsAreTakenOrRefusedCleanlyAndRoutesTakenServe() {
    Random random = new Random(SEED);
    int taken = 0;
    for (int i = 0; i < SPECS; i++) {
      RouteSpec spec = spec(random);
      String what = "spec " + i + " of seed " + SEED + ": " + spec;
      try {
        admin.withDeadlineAfter(10, TimeUnit.SECONDS).putRoute(PutRouteRequest.newBuilder().setRoute(spec).build());
      } catch (StatusRuntimeException e) {
        assertThat(REFUSALS).as("%s\nanswered %s", what, e.getStatus()).contains(e.getStatus().getCode());
        assertThat(e.getStatus().getDescription()).as(what).isNotBlank().hasSizeLessThan(8192);
        continue;
      }
      taken++;
      String name = spec.getName();
      GetRouteRequest get = GetRouteRequest.newBuilder().setName(name).build();
      answers(what + "\nGetRoute", () -> admin.getRoute(get));
      answers(what + "\nGetRouteStatus", () -> admin.getRouteStatus(get));
      if (spec.hasCanary()) {
        answers(what + "\nGetCanaryStatus", () -> admin.getCanaryStatus(get));
      }
      answers(what + "\nListRoutes", () -> admin.listRoutes(ListRoutesRequest.getDefaultInstance()));
      for (int call = 0; call < 4; call++) {
        ModelInferRequest request = InferRequests.rawFp32(name, "", "x", new float[8], 1, 8);
        try {
          server.blocking().withDeadlineAfter(10, TimeUnit.SECONDS).modelInfer(request);
        } catch (StatusRuntimeException e) {
          assertThat(CALL_REFUSALS).as("%s\na call answered %s", what, e.getStatus()).contains(e.getStatus().getCode());
        }
      }
      admin.withDeadlineAfter(10, TimeUnit.SECONDS).deleteRoute(DeleteRouteRequest.newBuilder().setName(name).build());
    }
    assertThat(taken).as("specs taken of %d", SPECS).isBetween(SPECS / 20, SPECS - SPECS / 10);
    assertThat(admin.listRoutes(ListRoutesRequest.getDefaultInstance()).getRoutesList()).isEmpty();
    assertThat(server.blocking().modelInfer(InferRequests.rawFp32("mlp", "", "x", new float[8], 1, 8))
        .getOutputsCount()).isEqualTo(1);
  }

  private static void answers(String what, Supplier<?> call) {
    try {
      assertThat(call.get()).as(what).isNotNull();
    } catch (StatusRuntimeException e) {
      throw new AssertionError(what + " answered " + e.getStatus(), e);
    }
  }

  private static <T> T any(Random r, List<T> values) {
    return values.get(r.nextInt(values.size()));
  }

  /** Mostly plausible: two variants of the demo's models with weights; then odd values here and there. */
  private static RouteSpec spec(Random r) {
    RouteSpec.Builder b = RouteSpec.newBuilder().setName(r.nextInt(5) == 0 ? any(r, NAMES) : "route-" + r.nextInt(3));
    int variants = r.nextInt(6) == 0 ? r.nextInt(4) : 2;
    for (int v = 0; v < variants; v++) {
      VariantSpec.Builder variant = VariantSpec.newBuilder()
          .setName(r.nextInt(6) == 0 ? any(r, NAMES) : List.of("a", "b", "c").get(v % 3))
          .setModel(r.nextInt(6) == 0 ? any(r, MODELS) : "mlp")
          .setVersion(r.nextInt(6) == 0 ? any(r, VERSIONS) : Integer.toString(1 + v % 2));
      if (r.nextInt(4) > 0) {
        variant.setWeight(r.nextInt(5) == 0 ? any(r, NUMBERS) : r.nextInt(101));
      }
      b.addVariants(variant);
    }
    if (r.nextInt(4) == 0) {
      b.addRules(RuleSpec.newBuilder().setHeader(any(r, List.of("x-variant", "", "Bad Header", ":path", "grpc-timeout")))
          .setValue(any(r, NAMES)).setVariant(any(r, NAMES)));
    }
    if (r.nextInt(3) == 0) {
      CanarySpec.Builder canary = CanarySpec.newBuilder().setVariant(any(r, List.of("a", "b", "c", "")))
          .setBaseline(any(r, List.of("a", "b", "")));
      for (int s = r.nextInt(4); s > 0; s--) {
        canary.addSteps(r.nextBoolean() ? any(r, NUMBERS) : r.nextDouble());
      }
      if (r.nextBoolean()) {
        canary.setMinRequests(any(r, List.of(0L, 1L, 100L, -1L)));
      }
      if (r.nextBoolean()) {
        canary.setMinSeconds(any(r, NUMBERS));
      }
      if (r.nextBoolean()) {
        canary.setMaxErrorRateIncrease(any(r, NUMBERS));
      }
      if (r.nextBoolean()) {
        canary.setMaxP99Ratio(any(r, NUMBERS));
      }
      if (r.nextInt(3) == 0) {
        BusinessSloSpec.Builder slo = BusinessSloSpec.newBuilder().setOutcome(any(r, List.of("click", "", "a b")));
        if (r.nextBoolean()) {
          slo.setMaxDecrease(any(r, NUMBERS));
        }
        if (r.nextBoolean()) {
          slo.setConfidence(any(r, NUMBERS));
        }
        if (r.nextBoolean()) {
          slo.setMinSamples(any(r, List.of(0L, 10L, -1L)));
        }
        canary.setBusinessSlo(slo);
      }
      b.setCanary(canary);
    }
    if (r.nextInt(4) == 0) {
      ShadowSpec.Builder shadow = ShadowSpec.newBuilder().setModel(any(r, MODELS)).setVersion(any(r, VERSIONS));
      if (r.nextBoolean()) {
        shadow.setFraction(any(r, NUMBERS));
      }
      b.setShadow(shadow);
    }
    if (r.nextInt(5) == 0) {
      BanditSpec.Builder bandit = BanditSpec.newBuilder().setOutcome(any(r, List.of("click", "")));
      if (r.nextBoolean()) {
        bandit.setMinShare(any(r, NUMBERS));
      }
      if (r.nextBoolean()) {
        bandit.setMinSamples(any(r, List.of(0L, 5L, -1L)));
      }
      b.setBandit(bandit);
    }
    return b.build();
  }
}
