package io.junction.server.grpc;

import static io.junction.server.grpc.Replies.reply;

import io.grpc.Context;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
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
import io.junction.proto.inference.ModelRepositoryParameter;
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
import io.junction.server.config.AdminAccess;
import io.junction.server.config.GrpcLimits;
import io.junction.server.errors.InvalidInputException;
import io.junction.server.inference.InferencePipeline;
import io.junction.server.inference.ModelCatalog;
import io.junction.server.inference.Parameter;
import io.junction.server.logging.LogControl;
import io.junction.server.model.ModelManager;
import io.junction.server.model.ModelState;
import io.junction.server.protocol.ProtoMapper;
import io.junction.server.protocol.ServerInfo;
import io.junction.server.telemetry.Telemetry;
import io.junction.server.tensor.BufferPool;
import io.netty.util.Timer;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.Tracer;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * The Open Inference Protocol service. It only translates: protocol messages in, domain calls, protocol
 * messages out; failures go through {@link StatusTranslator}. Inference goes to the
 * {@link InferencePipeline}; ModelInfer is served at the call level ({@link UnaryInferHandler}) so that
 * its headers can name the serving route and variant.
 */
public final class InferenceGrpcService extends GRPCInferenceServiceGrpc.GRPCInferenceServiceImplBase {
  /**
   * The size from which a request is copied once into a pooled direct buffer and parsed there (below it,
   * grpc-java's parser, which copies twice, costs less than the pool's bookkeeping).
   */
  public static final int POOLED_REQUEST_BYTES = 64 * 1024;

  /**
   * The methods whose calls run on the transport thread that reads them ({@link GrpcEndpoint}): each of their
   * callbacks decodes, validates and queues a request, or refuses it, without blocking, and hands anything long
   * (running a model, parsing a large request) to another thread. A hop to an executor would cost each call a
   * thread's wake-up and its CPU (BENCHMARKS.md, "Inference calls on the transport thread").
   */
  public static final Set<String> ON_TRANSPORT_THREAD = Set.of(
      GRPCInferenceServiceGrpc.getModelInferMethod().getFullMethodName(),
      GRPCInferenceServiceGrpc.getModelStreamInferMethod().getFullMethodName());

  private final ModelManager models;
  private final ModelCatalog catalog;
  private final InferencePipeline pipeline;
  private final ServerInfo info;
  private final int streamWindow;
  private final InferRequestMarshaller parser;
  private final LargeRequestLane lane;
  private final Timer timers;
  private final Duration readTimeout;
  private final Tracer tracer;
  private final UnaryOperator<Span> requestSpans;

  /**
   * @param streamWindow how many requests of one ModelStreamInfer stream may be in flight at once;
   *     further requests wait in the transport (HTTP/2 flow control) until answers go out
   * @param limits the typed-contents cap, the size from which requests are large, and the request read timeout
   * @param timers where ModelInfer's read timeouts wait (owned by the caller)
   * @param lane where large requests are parsed and handed on (owned by the caller)
   * @param requestBuffers where requests of {@link #POOLED_REQUEST_BYTES} and more are copied to be parsed
   * @param requestSpans what a streamed request's span is kept as
   *     ({@link Telemetry#requestSpans()})
   */
  public InferenceGrpcService(ModelManager models, ModelCatalog catalog, InferencePipeline pipeline, ServerInfo info,
      int streamWindow, GrpcLimits limits, Timer timers,
      LargeRequestLane lane, BufferPool requestBuffers, Tracer tracer,
      UnaryOperator<Span> requestSpans) {
    this.models = models;
    this.catalog = catalog;
    this.pipeline = pipeline;
    this.info = info;
    this.streamWindow = streamWindow;
    this.parser = new InferRequestMarshaller(limits.maxTypedContentsBytes(), limits.inboundMemory().largeMessageBytes(),
        POOLED_REQUEST_BYTES, requestBuffers);
    this.lane = lane;
    this.readTimeout = limits.requestReadTimeout();
    this.timers = timers;
    this.tracer = tracer;
    this.requestSpans = requestSpans;
  }

  /**
   * The service, with ModelInfer and ModelStreamInfer on Junction's own handlers.
   *
   * @param repositoryGuard who may call RepositoryModelLoad/Unload; empty: anyone (the API is open, or
   *     refuses every change anyway outside explicit mode)
   * @param admin who may call LogSettings: the admin credential, always (without one, nobody)
   * @param logs what LogSettings reads and changes; empty when the process does not log through logback
   */
  public ServerServiceDefinition definition(Optional<AdminAccess> repositoryGuard, AdminAccess admin,
      Optional<LogControl> logs) {
    ServerServiceDefinition generated = bindService();
    // ModelInfer and ModelStreamInfer with Junction's request marshaller: bad bytes get INVALID_ARGUMENT, large
    // requests are parsed on the large-request lane.
    MethodDescriptor<ReceivedRequest, ModelInferResponse> inferMethod = GRPCInferenceServiceGrpc.getModelInferMethod()
        .toBuilder(parser, ProtoUtils.marshaller(ModelInferResponse.getDefaultInstance())).build();
    MethodDescriptor<ReceivedRequest, ModelStreamInferResponse> streamMethod = GRPCInferenceServiceGrpc
        .getModelStreamInferMethod().toBuilder(parser, ProtoUtils.marshaller(ModelStreamInferResponse.getDefaultInstance()))
        .build();
    ServiceDescriptor original = generated.getServiceDescriptor();
    ServiceDescriptor.Builder descriptor = ServiceDescriptor.newBuilder(original.getName())
        .setSchemaDescriptor(original.getSchemaDescriptor());
    for (MethodDescriptor<?, ?> m : original.getMethods()) {
      descriptor.addMethod(m.getFullMethodName().equals(inferMethod.getFullMethodName()) ? inferMethod
          : m.getFullMethodName().equals(streamMethod.getFullMethodName()) ? streamMethod : m);
    }
    ServerServiceDefinition.Builder b = ServerServiceDefinition.builder(descriptor.build());
    String infer = GRPCInferenceServiceGrpc.getModelInferMethod().getFullMethodName();
    String stream = GRPCInferenceServiceGrpc.getModelStreamInferMethod().getFullMethodName();
    String logSettings = GRPCInferenceServiceGrpc.getLogSettingsMethod().getFullMethodName();
    Set<String> restricted = Set.of(
        GRPCInferenceServiceGrpc.getRepositoryModelLoadMethod().getFullMethodName(),
        GRPCInferenceServiceGrpc.getRepositoryModelUnloadMethod().getFullMethodName());
    Optional<ServerInterceptor> guard = repositoryGuard.map(access -> new AdminAuthInterceptor(access,
        "loading and unloading models", "open them to everyone who reaches this port with --repository-api open"));
    for (ServerMethodDefinition<?, ?> method : generated.getMethods()) {
      String name = method.getMethodDescriptor().getFullMethodName();
      if (restricted.contains(name) && guard.isPresent()) {
        b.addMethod(guarded(method, guard.get())); // only these methods: inference pays nothing for the check
      } else if (!name.equals(infer) && !name.equals(stream) && !name.equals(logSettings)) {
        b.addMethod(method);
      }
    }
    // The log's levels are the whole process's, and a verbose log can carry what callers sent: admins only.
    LogSettingsCall logCall = new LogSettingsCall(logs);
    b.addMethod(guarded(ServerMethodDefinition.create(GRPCInferenceServiceGrpc.getLogSettingsMethod(),
            ServerCalls.asyncUnaryCall(logCall::handle)),
        new AdminAuthInterceptor(admin, "reading and changing the log settings", "")));
    b.addMethod(inferMethod, new UnaryInferHandler(pipeline, lane, parser, timers, readTimeout));
    b.addMethod(streamMethod, streamHandler());
    return b.build();
  }

  private static <Q, R> ServerMethodDefinition<Q, R> guarded(ServerMethodDefinition<Q, R> method,
      ServerInterceptor guard) {
    ServerCallHandler<Q, R> next = method.getServerCallHandler();
    return method.withServerCallHandler((call, headers) -> guard.interceptCall(call, headers, next));
  }

  private ServerCallHandler<ReceivedRequest, ModelStreamInferResponse> streamHandler() {
    return (call, headers) -> ServerCalls.<ReceivedRequest, ModelStreamInferResponse>asyncBidiStreamingCall(
        out -> new StreamInferSession((ServerCallStreamObserver<ModelStreamInferResponse>) out, pipeline,
            streamWindow, RequestMetadata.headers(headers), Context.current(), tracer, requestSpans, lane,
            parser))
        .startCall(call, headers);
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
    reply(out, () -> ModelReadyResponse.newBuilder()
        .setReady(catalog.isReady(request.getName(), request.getVersion())).build());
  }

  @Override
  public void modelMetadata(ModelMetadataRequest request, StreamObserver<ModelMetadataResponse> out) {
    reply(out, () -> {
      ModelCatalog.Description d = catalog.describe(request.getName(), request.getVersion());
      return ProtoMapper.metadata(d.name(), d.model(), d.versions());
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
      catalog.statistics(request.getName(), request.getVersion()).forEach(m -> b.addModelStats(ProtoMapper.statistics(m)));
      return b.build();
    });
  }

  @Override
  public void repositoryIndex(RepositoryIndexRequest request, StreamObserver<RepositoryIndexResponse> out) {
    reply(out, () -> {
      RepositoryIndexResponse.Builder b = RepositoryIndexResponse.newBuilder();
      models.index().stream()
          .filter(e -> !request.getReady() || e.state() == ModelState.READY)
          .forEach(e -> b.addModels(ProtoMapper.index(e)));
      return b.build();
    });
  }

  @Override
  public void repositoryModelLoad(RepositoryModelLoadRequest request, StreamObserver<RepositoryModelLoadResponse> out) {
    reply(out, () -> {
      catalog.load(request.getModelName(), loadParameters(request.getParametersMap()));
      return RepositoryModelLoadResponse.getDefaultInstance();
    });
  }

  /** Load parameters as the catalog reads them; bytes as UTF-8 text (a config sent as bytes is still JSON). */
  private static Map<String, Parameter> loadParameters(Map<String, ModelRepositoryParameter> parameters) {
    Map<String, Parameter> out = new LinkedHashMap<>();
    parameters.forEach((key, p) -> out.put(key, switch (p.getParameterChoiceCase()) {
      case BOOL_PARAM -> Parameter.of(p.getBoolParam());
      case INT64_PARAM -> Parameter.int64(p.getInt64Param());
      case BYTES_PARAM -> Parameter.of(p.getBytesParam().toStringUtf8());
      default -> Parameter.of(p.getStringParam());
    }));
    return out;
  }

  @Override
  public void repositoryModelUnload(RepositoryModelUnloadRequest request,
      StreamObserver<RepositoryModelUnloadResponse> out) {
    reply(out, () -> {
      catalog.unload(request.getModelName());
      return RepositoryModelUnloadResponse.getDefaultInstance();
    });
  }
}
