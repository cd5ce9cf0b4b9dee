package io.junction.server.grpc;

import static io.junction.server.grpc.Replies.reply;

import com.google.common.util.concurrent.MoreExecutors;
import io.grpc.Context;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.Tracer;
import io.grpc.Deadline;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.junction.proto.inference.GRPCInferenceServiceGrpc;
import io.junction.proto.inference.ModelConfigRequest;
import io.junction.proto.inference.ModelConfigResponse;
import io.junction.proto.inference.ModelInferRequest;
import io.junction.proto.inference.ModelInferResponse;
import io.junction.proto.inference.ModelMetadataRequest;
import io.junction.proto.inference.ModelMetadataResponse;
import io.junction.proto.inference.ModelReadyRequest;
import io.junction.proto.inference.ModelReadyResponse;
import io.junction.proto.inference.ModelStatisticsRequest;
import io.junction.proto.inference.ModelStatisticsResponse;
import io.junction.proto.inference.ModelStreamInferResponse;
import io.junction.proto.inference.RepositoryIndexRequest;
import io.junction.proto.inference.RepositoryIndexResponse;
import io.junction.proto.inference.RepositoryModelLoadRequest;
import io.junction.proto.inference.RepositoryModelLoadResponse;
import io.junction.proto.inference.RepositoryModelUnloadRequest;
import io.junction.proto.inference.RepositoryModelUnloadResponse;
import io.junction.proto.inference.ServerLiveRequest;
import io.junction.proto.inference.ServerLiveResponse;
import io.junction.proto.inference.ServerMetadataRequest;
import io.junction.proto.inference.ServerMetadataResponse;
import io.junction.proto.inference.ServerReadyRequest;
import io.junction.proto.inference.ServerReadyResponse;
import io.junction.server.config.ModelControl;
import io.junction.server.errors.InvalidInputException;
import io.junction.server.errors.RepositoryApiDisabledException;
import io.junction.server.errors.JunctionException;
import io.junction.server.errors.ModelNotFoundException;
import io.junction.server.model.ModelAccess;
import io.junction.server.routing.Route;
import io.junction.server.routing.RouteObserver;
import io.junction.server.routing.RouteRegistry;
import io.junction.server.routing.Variant;
import java.util.Optional;
import io.junction.server.model.ModelManager;
import io.junction.server.model.ServedModel;
import io.junction.server.scheduling.InferenceRequest;
import io.junction.server.scheduling.InferenceScheduler;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The Open Inference Protocol service. It only translates: protocol messages in, domain calls, protocol
 * messages out; failures go through {@link StatusTranslator}.
 */
public final class InferenceGrpcService extends GRPCInferenceServiceGrpc.GRPCInferenceServiceImplBase {
  private final ModelManager models;
  private final ServerInfo info;
  private final ModelInferHandler inferHandler;
  private final int streamWindow;
  private final Tracer tracer;
  private final ModelControl control;
  private final RouteRegistry routes;

  /**
   * @param streamWindow how many requests of one ModelStreamInfer stream may be in flight at once;
   *     further requests wait in the transport (HTTP/2 flow control) until answers go out
   */
  public InferenceGrpcService(ModelManager models, ModelAccess access, InferenceScheduler scheduler, ServerInfo info,
      int streamWindow, Tracer tracer, ModelControl control, RouteRegistry routes, RouteObserver routeObserver,
      java.util.concurrent.Executor shadowExecutor) {
    this.routes = routes;
    this.tracer = tracer;
    this.control = control;
    this.models = models;
    this.info = info;
    this.inferHandler = new ModelInferHandler(access, scheduler, routes, routeObserver, shadowExecutor);
    this.streamWindow = streamWindow;
  }

  @Override
  public void serverLive(ServerLiveRequest request, StreamObserver<ServerLiveResponse> out) {
    reply(out, () -> ServerLiveResponse.newBuilder().setLive(true).build());
  }

  @Override
  public void serverReady(ServerReadyRequest request, StreamObserver<ServerReadyResponse> out) {
    reply(out, () -> ServerReadyResponse.newBuilder().setReady(info.ready().getAsBoolean()).build());
  }

  @Override
  public void serverMetadata(ServerMetadataRequest request, StreamObserver<ServerMetadataResponse> out) {
    reply(out, () -> ServerMetadataResponse.newBuilder().setName(info.name()).setVersion(info.version())
        .addAllExtensions(info.extensions()).build());
  }

  @Override
  public void modelReady(ModelReadyRequest request, StreamObserver<ModelReadyResponse> out) {
    reply(out, () -> {
      boolean ready;
      try {
        Optional<Route> route = routes.current().route(request.getName());
        if (route.isPresent()) {
          // A route is ready when every variant that takes traffic is.
          ready = true;
          for (Variant v : route.get().variants()) {
            ready &= v.weight() <= 0 || !models.resolve(v.model(), v.version()).isRetired();
          }
        } else {
          ready = !models.resolve(request.getName(), request.getVersion()).isRetired();
        }
      } catch (JunctionException e) {
        ready = false; // unknown and not-ready models alike are simply not ready, as in Triton
      }
      return ModelReadyResponse.newBuilder().setReady(ready).build();
    });
  }

  @Override
  public void modelMetadata(ModelMetadataRequest request, StreamObserver<ModelMetadataResponse> out) {
    reply(out, () -> {
      Optional<Route> route = routes.current().route(request.getName());
      if (route.isPresent()) {
        // A route describes itself by its first variant taking traffic: variants share a signature.
        Variant v = route.get().variants().stream().filter(x -> x.weight() > 0).findFirst().orElseThrow();
        ServedModel model = models.resolve(v.model(), v.version());
        return ProtoMapper.metadata(model, models.readyVersions(model.name())).toBuilder()
            .setName(route.get().name()).clearVersions().build();
      }
      ServedModel model = models.resolve(request.getName(), request.getVersion());
      return ProtoMapper.metadata(model, models.readyVersions(model.name()));
    });
  }

  @Override
  public void modelConfig(ModelConfigRequest request, StreamObserver<ModelConfigResponse> out) {
    reply(out, () -> ModelConfigResponse.newBuilder()
        .setConfig(models.resolve(request.getName(), request.getVersion()).config()).build());
  }

  @Override
  public void modelStatistics(ModelStatisticsRequest request, StreamObserver<ModelStatisticsResponse> out) {
    reply(out, () -> {
      ModelStatisticsResponse.Builder b = ModelStatisticsResponse.newBuilder();
      if (request.getName().isEmpty()) {
        for (String name : models.modelNames()) {
          models.readyVersions(name).forEach(m -> b.addModelStats(ProtoMapper.statistics(m)));
        }
      } else if (request.getVersion().isEmpty()) {
        List<ServedModel> versions = models.readyVersions(request.getName());
        if (versions.isEmpty()) {
          throw new ModelNotFoundException("model '" + request.getName() + "' has no ready version");
        }
        versions.forEach(m -> b.addModelStats(ProtoMapper.statistics(m)));
      } else {
        b.addModelStats(ProtoMapper.statistics(models.resolve(request.getName(), request.getVersion())));
      }
      return b.build();
    });
  }

  @Override
  public void repositoryIndex(RepositoryIndexRequest request, StreamObserver<RepositoryIndexResponse> out) {
    reply(out, () -> {
      RepositoryIndexResponse.Builder b = RepositoryIndexResponse.newBuilder();
      models.index().stream()
          .filter(e -> !request.getReady() || e.state() == io.junction.server.model.ModelState.READY)
          .forEach(e -> b.addModels(ProtoMapper.index(e)));
      return b.build();
    });
  }

  @Override
  public void repositoryModelLoad(RepositoryModelLoadRequest request, StreamObserver<RepositoryModelLoadResponse> out) {
    reply(out, () -> {
      requireExplicitMode("load", request.getModelName());
      if (!request.getParametersMap().isEmpty()) {
        throw new InvalidInputException("model '" + request.getModelName() + "': load parameters "
            + request.getParametersMap().keySet() + " are not supported; Junction loads models from the repository as they are");
      }
      if (!models.load(request.getModelName())) {
        throw new InvalidInputException("failed to load model '" + request.getModelName() + "': "
            + models.index().stream().filter(e -> e.name().equals(request.getModelName()))
                .map(e -> (e.version().isEmpty() ? "" : "version " + e.version() + ": ") + e.reason())
                .reduce((a, c) -> a + "; " + c).orElse("no version loaded"));
      }
      return RepositoryModelLoadResponse.getDefaultInstance();
    });
  }

  @Override
  public void repositoryModelUnload(RepositoryModelUnloadRequest request,
      StreamObserver<RepositoryModelUnloadResponse> out) {
    reply(out, () -> {
      requireExplicitMode("unload", request.getModelName());
      List<String> users = routes.routesUsing(request.getModelName());
      if (!users.isEmpty()) {
        throw new RepositoryApiDisabledException("cannot unload model '" + request.getModelName()
            + "': routes " + users + " send traffic to it; change or delete those routes first");
      }
      models.unload(request.getModelName());
      return RepositoryModelUnloadResponse.getDefaultInstance();
    });
  }

  @Override
  public void modelInfer(ModelInferRequest request, StreamObserver<ModelInferResponse> out) {
    ServerCallStreamObserver<ModelInferResponse> call = (ServerCallStreamObserver<ModelInferResponse>) out;
    // With a cancel handler set, a late answer to a cancelled call is dropped instead of throwing.
    call.setOnCancelHandler(() -> { });
    Context context = Context.current();
    inferHandler.handle(request, deadlineNanos(context), context::isCancelled,
        queued -> context.addListener(c -> queued.cancel(false), MoreExecutors.directExecutor()),
        Span.current()).whenComplete((response, failure) -> {
      if (failure != null) {
        call.onError(StatusTranslator.toStatus(failure));
      } else {
        call.onNext(response);
        call.onCompleted();
      }
    });
  }

  @Override
  public StreamObserver<ModelInferRequest> modelStreamInfer(StreamObserver<ModelStreamInferResponse> out) {
    ServerCallStreamObserver<ModelStreamInferResponse> call = (ServerCallStreamObserver<ModelStreamInferResponse>) out;
    Context context = Context.current();
    return new StreamInferSession(call, inferHandler, streamWindow, () -> deadlineNanos(context), context, tracer);
  }

  private void requireExplicitMode(String action, String model) {
    if (!control.allowsRepositoryApi()) {
      throw new RepositoryApiDisabledException("cannot " + action + " model '" + model + "': explicit model "
          + action + " needs --model-control-mode explicit (this server runs in " + control.mode().name().toLowerCase()
          + " mode)");
    }
  }

  private static long deadlineNanos(Context context) {
    Deadline deadline = context.getDeadline();
    if (deadline == null) {
      return InferenceRequest.NO_DEADLINE;
    }
    return System.nanoTime() + deadline.timeRemaining(TimeUnit.NANOSECONDS);
  }
}
