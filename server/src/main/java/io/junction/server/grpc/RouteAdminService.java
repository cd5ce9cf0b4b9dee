package io.junction.server.grpc;

import static io.junction.server.grpc.Replies.reply;

import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.StreamObserver;
import io.junction.proto.admin.v1.CanaryStatus;
import io.junction.proto.admin.v1.DeleteRouteRequest;
import io.junction.proto.admin.v1.DeleteRouteResponse;
import io.junction.proto.admin.v1.GetRouteRequest;
import io.junction.proto.admin.v1.ListRoutesRequest;
import io.junction.proto.admin.v1.ListRoutesResponse;
import io.junction.proto.admin.v1.OutcomeComparison;
import io.junction.proto.admin.v1.OutcomeStatus;
import io.junction.proto.admin.v1.PutRouteRequest;
import io.junction.proto.admin.v1.PutRouteResponse;
import io.junction.proto.admin.v1.RouteServiceGrpc;
import io.junction.proto.admin.v1.RouteSpec;
import io.junction.proto.admin.v1.RouteStatus;
import io.junction.proto.admin.v1.VariantOutcome;
import io.junction.proto.admin.v1.VariantStatus;
import io.junction.server.config.AdminAccess;
import io.junction.server.errors.InvalidInputException;
import io.junction.server.errors.ModelNotFoundException;
import io.junction.server.outcomes.OutcomeTracker;
import io.junction.server.outcomes.RouteOutcomes;
import io.junction.server.routing.CanaryController;
import io.junction.server.routing.Route;
import io.junction.server.routing.RouteRegistry;
import io.junction.server.routing.RouteSpecs;
import io.junction.server.routing.Variant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@code junction.admin.v1.RouteService}: reads and changes the route table; translation only. */
public final class RouteAdminService extends RouteServiceGrpc.RouteServiceImplBase {
  private static final Logger log = LoggerFactory.getLogger(RouteAdminService.class);
  /** Confidence of the outcome intervals and tests in GetRouteStatus. */
  static final double CONFIDENCE = 0.95;

  private final RouteRegistry routes;
  private final CanaryController canaries;
  private final OutcomeTracker outcomes;

  private RouteAdminService(RouteRegistry routes, CanaryController canaries, OutcomeTracker outcomes) {
    this.routes = routes;
    this.canaries = canaries;
    this.outcomes = outcomes;
  }

  /** The service behind the admin credential. */
  public static ServerServiceDefinition guarded(RouteRegistry routes, CanaryController canaries,
      OutcomeTracker outcomes, AdminAccess access) {
    return ServerInterceptors.intercept(new RouteAdminService(routes, canaries, outcomes),
        new AdminAuthInterceptor(access, "the admin service", ""));
  }

  @Override
  public void getCanaryStatus(GetRouteRequest request, StreamObserver<CanaryStatus> out) {
    reply(out, () -> canaryStatus(canaries.status(request.getName())
        .orElseThrow(() -> new ModelNotFoundException("route '" + request.getName() + "' has no canary"))));
  }

  private static CanaryStatus canaryStatus(CanaryController.Status s) {
    return CanaryStatus.newBuilder().setRoute(s.route()).setCanary(s.canary()).setBaseline(s.baseline())
        .setState(s.state().name()).setStep(s.step()).setCanaryWeight(s.canaryWeight())
        .setCanaryRequests(s.canaryRequests()).setCanaryErrors(s.canaryErrors()).setCanaryP99Ms(s.canaryP99Millis())
        .setBaselineRequests(s.baselineRequests()).setBaselineErrors(s.baselineErrors())
        .setBaselineP99Ms(s.baselineP99Millis()).setReason(s.reason()).build();
  }

  @Override
  public void getRouteStatus(GetRouteRequest request, StreamObserver<RouteStatus> out) {
    reply(out, () -> {
      Route route = routes.current().route(request.getName())
          .orElseThrow(() -> new ModelNotFoundException("no route '" + request.getName() + "'"));
      RouteStatus.Builder b = RouteStatus.newBuilder().setRoute(route.name()).setConfidence(CONFIDENCE);
      double total = route.variants().stream().mapToDouble(Variant::weight).sum();
      for (Variant v : route.variants()) {
        b.addVariants(VariantStatus.newBuilder().setName(v.name()).setModel(v.model()).setVersion(v.version())
            .setWeight(total > 0 ? 100 * v.weight() / total : 0));
      }
      canaries.status(route.name()).ifPresent(s -> b.setCanary(canaryStatus(s)));
      RouteOutcomes report = outcomes.report(route.name(),
          route.variants().stream().map(Variant::name).toList(), CONFIDENCE);
      report.outcomes().forEach((outcome, rows) -> {
        OutcomeStatus.Builder o = OutcomeStatus.newBuilder().setOutcome(outcome);
        rows.forEach(r -> o.addVariants(VariantOutcome.newBuilder().setVariant(r.variant())
            .setCount(r.summary().count()).setMean(r.summary().mean()).setCiLow(r.interval().low())
            .setCiHigh(r.interval().high()).setBinary(r.summary().binary())));
        report.comparisons().get(outcome).forEach(c -> o.addComparisons(OutcomeComparison.newBuilder()
            .setVariant(c.variant()).setControl(c.control()).setTest(c.comparison().test())
            .setDifference(c.comparison().difference()).setCiLow(c.comparison().interval().low())
            .setCiHigh(c.comparison().interval().high()).setPValue(c.comparison().pValue())
            .setSignificant(c.comparison().significant()).setNote(c.comparison().note())));
        b.addOutcomes(o);
      });
      return b.build();
    });
  }

  @Override
  public void putRoute(PutRouteRequest request, StreamObserver<PutRouteResponse> out) {
    reply(out, () -> {
      Route route;
      try {
        route = RouteSpecs.toDomain(request.getRoute());
        routes.put(route);
      } catch (IllegalArgumentException e) {
        throw new InvalidInputException("route '" + request.getRoute().getName() + "' rejected: " + e.getMessage());
      }
      log.info("route '{}' set by the admin service: {}", route.name(), route.variants());
      return PutRouteResponse.getDefaultInstance();
    });
  }

  @Override
  public void getRoute(GetRouteRequest request, StreamObserver<RouteSpec> out) {
    reply(out, () -> RouteSpecs.toSpec(routes.current().route(request.getName())
        .orElseThrow(() -> new ModelNotFoundException("no route '" + request.getName() + "'"))));
  }

  @Override
  public void listRoutes(ListRoutesRequest request, StreamObserver<ListRoutesResponse> out) {
    reply(out, () -> {
      ListRoutesResponse.Builder b = ListRoutesResponse.newBuilder();
      routes.current().routes().values().forEach(r -> b.addRoutes(RouteSpecs.toSpec(r)));
      return b.build();
    });
  }

  @Override
  public void deleteRoute(DeleteRouteRequest request, StreamObserver<DeleteRouteResponse> out) {
    reply(out, () -> {
      if (!routes.delete(request.getName())) {
        throw new ModelNotFoundException("no route '" + request.getName() + "'");
      }
      log.info("route '{}' deleted by the admin service", request.getName());
      return DeleteRouteResponse.getDefaultInstance();
    });
  }
}
