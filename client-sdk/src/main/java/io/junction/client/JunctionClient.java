package io.junction.client;

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.MoreExecutors;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.MetadataUtils;
import io.junction.proto.inference.GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub;
import io.junction.proto.inference.GRPCInferenceServiceGrpc.GRPCInferenceServiceFutureStub;
import io.junction.proto.inference.GRPCInferenceServiceGrpc;
import io.junction.proto.inference.ModelConfig;
import io.junction.proto.inference.LogSettingsRequest;
import io.junction.proto.inference.LogSettingsResponse;
import io.junction.proto.inference.ModelConfigRequest;
import io.junction.proto.inference.ModelInferResponse;
import io.junction.proto.inference.ModelMetadataRequest;
import io.junction.proto.inference.ModelMetadataResponse;
import io.junction.proto.inference.ModelReadyRequest;
import io.junction.proto.inference.ModelStatistics;
import io.junction.proto.inference.ModelStatisticsRequest;
import io.junction.proto.inference.RepositoryIndexRequest;
import io.junction.proto.inference.RepositoryModelLoadRequest;
import io.junction.proto.inference.RepositoryModelUnloadRequest;
import io.junction.proto.inference.ServerLiveRequest;
import io.junction.proto.inference.ServerMetadataRequest;
import io.junction.proto.inference.ServerMetadataResponse;
import io.junction.proto.inference.ServerReadyRequest;
import io.opentelemetry.api.baggage.propagation.W3CBaggagePropagator;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.context.propagation.TextMapPropagator;
import java.io.File;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * A Java client for Junction (and any Open Inference Protocol server), over the generated gRPC stubs.
 * Every call has the default deadline unless the builder disables it or the request sets its own, and
 * every failure is a {@link JunctionException} with the server's status.
 *
 * <p>Thread-safe: create one per server and share it. {@link #close} closes the channel the client
 * created, never one passed to {@link Builder#channel}. Async answers complete on gRPC's threads. The
 * transport is {@code grpc-netty-shaded}, so the client never clashes with an application's own Netty.
 *
 * <pre>{@code
 * try (JunctionClient client = JunctionClient.builder("localhost:8001").plaintext().build()) {
 *   InferResult r = client.infer(InferRequest.builder("mlp")
 *       .input(InferInput.fp32("x", new float[8], 1, 8)).build());
 *   float[] y = r.asFloats("y");
 * }
 * }</pre>
 */
public final class JunctionClient implements AutoCloseable {
  private final ManagedChannel channel;
  private final boolean ownsChannel;
  private final Duration defaultDeadline;
  private final GRPCInferenceServiceBlockingStub blocking;
  private final GRPCInferenceServiceFutureStub future;
  /** The channel with every interceptor: what all calls, streams included, go through. */
  private final Channel intercepted;

  private JunctionClient(Builder b) {
    this.ownsChannel = b.channel == null;
    this.channel = ownsChannel ? b.newChannel() : b.channel;
    this.defaultDeadline = b.defaultDeadline;
    ClientInterceptor headers = MetadataUtils.newAttachHeadersInterceptor(toMetadata(b.metadata));
    ClientInterceptor tracing = new TracingClientInterceptor(b.propagator);
    // withInterceptors runs the last one first: the client's own, then the application's in its order.
    List<ClientInterceptor> reversed = new ArrayList<>(b.interceptors);
    Collections.reverse(reversed);
    this.intercepted = ClientInterceptors.intercept(channel,
        concat(reversed.toArray(ClientInterceptor[]::new), new ClientInterceptor[] {headers, tracing}));
    this.blocking = GRPCInferenceServiceGrpc.newBlockingStub(intercepted);
    this.future = GRPCInferenceServiceGrpc.newFutureStub(intercepted);
  }

  /**
   * A client for {@code host:port} or any gRPC target string, e.g. {@code dns:///name:8001} for every
   * address a name resolves to (see {@link Builder#loadBalancing}).
   */
  public static Builder builder(String target) {
    return new Builder(Objects.requireNonNull(target, "target"));
  }

  public boolean isServerLive() {
    return call(() -> blocking().serverLive(ServerLiveRequest.getDefaultInstance()).getLive());
  }

  public boolean isServerReady() {
    return call(() -> blocking().serverReady(ServerReadyRequest.getDefaultInstance()).getReady());
  }

  public boolean isModelReady(String model) {
    return isModelReady(model, "");
  }

  public boolean isModelReady(String model, String version) {
    return call(() -> blocking().modelReady(ModelReadyRequest.newBuilder().setName(model).setVersion(version).build())
        .getReady());
  }

  /** Server name, version and protocol extensions. */
  public ServerMetadataResponse serverMetadata() {
    return call(() -> blocking().serverMetadata(ServerMetadataRequest.getDefaultInstance()));
  }

  public ModelInfo modelMetadata(String model) {
    return modelMetadata(model, "");
  }

  public ModelInfo modelMetadata(String model, String version) {
    ModelMetadataResponse r = call(() -> blocking().modelMetadata(
        ModelMetadataRequest.newBuilder().setName(model).setVersion(version).build()));
    return new ModelInfo(r.getName(), r.getVersionsList(), r.getPlatform(), tensors(r.getInputsList()),
        tensors(r.getOutputsList()));
  }

  /** Runs a request and waits for the answer. */
  public InferResult infer(InferRequest request) {
    AtomicReference<Metadata> responseHeaders = new AtomicReference<>();
    AtomicReference<Metadata> trailers = new AtomicReference<>();
    ModelInferResponse response = call(() -> withHeaders(deadline(blocking, request.deadline()), request.headers())
        .withInterceptors(MetadataUtils.newCaptureMetadataInterceptor(responseHeaders, trailers))
        .modelInfer(request.toProto()));
    return new InferResult(response, responseHeaders.get());
  }

  /**
   * Runs a request without blocking. The future completes on a gRPC thread; chain heavy work onto an
   * executor of your own. Fails with {@link JunctionException}.
   */
  public CompletableFuture<InferResult> inferAsync(InferRequest request) {
    CompletableFuture<InferResult> result = new CompletableFuture<>();
    AtomicReference<Metadata> responseHeaders = new AtomicReference<>();
    AtomicReference<Metadata> trailers = new AtomicReference<>();
    GRPCInferenceServiceFutureStub stub = withHeaders(deadline(future, request.deadline()), request.headers())
        .withInterceptors(MetadataUtils.newCaptureMetadataInterceptor(responseHeaders, trailers));
    ListenableFuture<ModelInferResponse> call = stub.modelInfer(request.toProto());
    Futures.addCallback(call, new FutureCallback<ModelInferResponse>() {
      @Override
      public void onSuccess(ModelInferResponse response) {
        result.complete(new InferResult(response, responseHeaders.get()));
      }

      @Override
      public void onFailure(Throwable t) {
        result.completeExceptionally(JunctionException.from(t));
      }
    }, MoreExecutors.directExecutor());
    // Cancelling the returned future cancels the call: the server takes it out of its queue.
    result.whenComplete((r, t) -> {
      if (result.isCancelled()) {
        call.cancel(true);
      }
    });
    return result;
  }

  /**
   * Opens a ModelStreamInfer stream: requests go out in order, each answer completes its request's
   * future, and {@link InferStream#send} waits while the server is not taking more (back-pressure).
   *
   * @param headers metadata for the whole stream (e.g. {@code x-routing-key}): every request of it is routed by them
   */
  public InferStream inferStream(Map<String, String> headers) {
    Channel ch = headers.isEmpty() ? intercepted
        : ClientInterceptors.intercept(intercepted, MetadataUtils.newAttachHeadersInterceptor(toMetadata(headers)));
    return new InferStream(ch.newCall(GRPCInferenceServiceGrpc.getModelStreamInferMethod(),
        defaultDeadline == null ? CallOptions.DEFAULT
            : CallOptions.DEFAULT.withDeadlineAfter(defaultDeadline.toNanos(), TimeUnit.NANOSECONDS)),
        InferStream.DEFAULT_MAX_OUTSTANDING);
  }

  /** {@link #inferStream(Map)} without stream headers. */
  public InferStream inferStream() {
    return inferStream(Map.of());
  }

  /** The model's configuration as the server resolved it (Triton's model configuration). */
  public ModelConfig modelConfig(String model, String version) {
    return call(() -> blocking().modelConfig(ModelConfigRequest.newBuilder()
        .setName(model).setVersion(version).build())).getConfig();
  }

  public ModelConfig modelConfig(String model) {
    return modelConfig(model, "");
  }

  /** Cumulative statistics of a model's versions (all models when {@code model} is empty), as Triton reports them. */
  public List<ModelStatistics> modelStatistics(String model, String version) {
    return call(() -> blocking().modelStatistics(ModelStatisticsRequest.newBuilder()
        .setName(model).setVersion(version).build())).getModelStatsList();
  }

  public List<ModelStatistics> modelStatistics(String model) {
    return modelStatistics(model, "");
  }

  /** Every model version in the server's repository, with its state and the reason for it. */
  public List<RepositoryModel> repositoryIndex() {
    return call(() -> blocking().repositoryIndex(RepositoryIndexRequest.getDefaultInstance()))
        .getModelsList().stream()
        .map(m -> new RepositoryModel(m.getName(), m.getVersion(), m.getState(), m.getReason())).toList();
  }

  /** Loads (or reloads) a model; needs the admin credential on Junction unless its repository API is open. */
  public void loadModel(String model) {
    call(() -> blocking().repositoryModelLoad(RepositoryModelLoadRequest.newBuilder()
        .setModelName(model).build()));
  }

  /** Unloads a model; needs the admin credential on Junction unless its repository API is open. */
  public void unloadModel(String model) {
    call(() -> blocking().repositoryModelUnload(RepositoryModelUnloadRequest.newBuilder()
        .setModelName(model).build()));
  }

  /**
   * The server's log settings by name (Triton's logging extension: {@code log_info}, {@code log_warning},
   * {@code log_error}, {@code log_verbose_level}, {@code log_format}, {@code log_file}), each a Boolean, Long or
   * String; needs the admin credential on Junction.
   */
  public Map<String, Object> logSettings() {
    return updateLogSettings(Map.of());
  }

  /**
   * Changes the log settings {@code changes} names, all or none, and returns every setting as it then is; needs the
   * admin credential on Junction.
   *
   * @param changes by name: a Boolean, a whole Number from 0 to 2^32-1, or a String
   * @throws IllegalArgumentException for a value of another kind, before anything is sent
   */
  public Map<String, Object> updateLogSettings(Map<String, ?> changes) {
    LogSettingsRequest.Builder request = LogSettingsRequest.newBuilder();
    changes.forEach((name, value) -> request.putSettings(name, logSetting(name, value)));
    LogSettingsResponse response = call(() -> blocking().logSettings(request.build()));
    Map<String, Object> settings = new LinkedHashMap<>();
    response.getSettingsMap().forEach((name, v) -> settings.put(name, switch (v.getParameterChoiceCase()) {
      case BOOL_PARAM -> v.getBoolParam();
      case UINT32_PARAM -> Integer.toUnsignedLong(v.getUint32Param());
      case STRING_PARAM -> v.getStringParam();
      case PARAMETERCHOICE_NOT_SET -> "";
    }));
    return settings;
  }

  private static LogSettingsRequest.SettingValue logSetting(String name, Object value) {
    LogSettingsRequest.SettingValue.Builder v = LogSettingsRequest.SettingValue.newBuilder();
    if (value instanceof Boolean b) {
      return v.setBoolParam(b).build();
    }
    if (value instanceof String text) {
      return v.setStringParam(text).build();
    }
    if ((value instanceof Long || value instanceof Integer || value instanceof Short || value instanceof Byte)
        && ((Number) value).longValue() >= 0 && ((Number) value).longValue() <= 0xFFFF_FFFFL) {
      return v.setUint32Param((int) ((Number) value).longValue()).build();
    }
    throw new IllegalArgumentException("log setting '" + name + "' must be a Boolean, a whole number from 0 to "
        + "2^32-1 or a String, got " + value);
  }

  /** The underlying channel, e.g. for other services on the same port. */
  public ManagedChannel channel() {
    return channel;
  }

  /** Closes the channel if this client created it. */
  @Override
  public void close() {
    if (!ownsChannel) {
      return;
    }
    channel.shutdown();
    try {
      if (!channel.awaitTermination(5, TimeUnit.SECONDS)) {
        channel.shutdownNow();
      }
    } catch (InterruptedException e) {
      channel.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }

  private GRPCInferenceServiceBlockingStub blocking() {
    return deadline(blocking);
  }

  private <S extends AbstractStub<S>> S deadline(S stub) {
    return deadline(stub, Optional.empty());
  }

  /** The request's own deadline, else the client's default. */
  private <S extends AbstractStub<S>> S deadline(S stub, Optional<Duration> own) {
    Duration d = own.orElse(defaultDeadline);
    return d == null ? stub : stub.withDeadlineAfter(d.toNanos(), TimeUnit.NANOSECONDS);
  }

  private static ClientInterceptor[] concat(ClientInterceptor[] a, ClientInterceptor[] b) {
    ClientInterceptor[] all = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, all, a.length, b.length);
    return all;
  }

  private static <S extends AbstractStub<S>> S withHeaders(S stub, Map<String, String> headers) {
    return headers.isEmpty() ? stub : stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(toMetadata(headers)));
  }

  private static <T> T call(Supplier<T> rpc) {
    try {
      return rpc.get();
    } catch (StatusRuntimeException e) {
      throw JunctionException.from(e);
    }
  }

  private static List<ModelInfo.TensorInfo> tensors(List<ModelMetadataResponse.TensorMetadata> list) {
    return list.stream().map(t -> new ModelInfo.TensorInfo(t.getName(), t.getDatatype(), t.getShapeList())).toList();
  }

  private static Metadata toMetadata(Map<String, String> entries) {
    Metadata md = new Metadata();
    entries.forEach((k, v) -> md.put(Metadata.Key.of(k, Metadata.ASCII_STRING_MARSHALLER), v));
    return md;
  }

  /** Settings of a {@link JunctionClient}; each setter checks its argument. */
  public static final class Builder {
    public static final Duration DEFAULT_DEADLINE = Duration.ofSeconds(30);
    public static final int DEFAULT_MAX_INBOUND_MESSAGE_BYTES = 64 * 1024 * 1024;
    /** Above the 10 s the server permits, so it never answers our pings with GOAWAY (too_many_pings). */
    public static final Duration DEFAULT_KEEP_ALIVE_TIME = Duration.ofSeconds(30);
    public static final Duration DEFAULT_KEEP_ALIVE_TIMEOUT = Duration.ofSeconds(10);

    private final String target;
    private boolean tls = true;
    private File trustedCertificates;
    private File clientCertificateChain;
    private File clientPrivateKey;
    private Duration defaultDeadline = DEFAULT_DEADLINE;
    private int maxInboundMessageBytes = DEFAULT_MAX_INBOUND_MESSAGE_BYTES;
    private final Map<String, String> metadata = new LinkedHashMap<>();
    private ManagedChannel channel;
    private LoadBalancing loadBalancing = LoadBalancing.ROUND_ROBIN;
    private Duration keepAliveTime = DEFAULT_KEEP_ALIVE_TIME;
    private Duration keepAliveTimeout = DEFAULT_KEEP_ALIVE_TIMEOUT;
    private final List<ClientInterceptor> interceptors = new ArrayList<>();
    private RetryPolicy retry;
    private TextMapPropagator propagator = TextMapPropagator.composite(
        W3CTraceContextPropagator.getInstance(), W3CBaggagePropagator.getInstance());

    private Builder(String target) {
      this.target = target;
    }

    /** No TLS, e.g. inside a cluster network or on loopback. */
    public Builder plaintext() {
      this.tls = false;
      return this;
    }

    /** TLS with the JVM's trusted roots (the default). */
    public Builder tls() {
      this.tls = true;
      return this;
    }

    /** TLS trusting the given PEM certificates (e.g. a private CA or a self-signed server). */
    public Builder tls(File trustedCertificatesPem) {
      this.tls = true;
      this.trustedCertificates = Objects.requireNonNull(trustedCertificatesPem, "trustedCertificatesPem");
      return this;
    }

    /**
     * A client certificate to present (mTLS): a PEM certificate chain and its PKCS#8 PEM private key.
     * Implies TLS; the server checks it against its client CA and may take it as the admin credential.
     */
    public Builder clientCertificate(File certificateChainPem, File privateKeyPem) {
      this.tls = true;
      this.clientCertificateChain = Objects.requireNonNull(certificateChainPem, "certificateChainPem");
      this.clientPrivateKey = Objects.requireNonNull(privateKeyPem, "privateKeyPem");
      return this;
    }

    /** Deadline of every call; {@code null} for none. Default 30 s. */
    public Builder defaultDeadline(Duration deadline) {
      if (deadline != null && (deadline.isNegative() || deadline.isZero())) {
        throw new IllegalArgumentException("defaultDeadline must be positive, got " + deadline);
      }
      this.defaultDeadline = deadline;
      return this;
    }

    /** A gRPC metadata entry sent with every call (e.g. an API key). */
    public Builder metadata(String key, String value) {
      metadata.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
      return this;
    }

    public Builder maxInboundMessageBytes(int bytes) {
      if (bytes <= 0) {
        throw new IllegalArgumentException("maxInboundMessageBytes must be positive, got " + bytes);
      }
      this.maxInboundMessageBytes = bytes;
      return this;
    }

    /**
     * The propagators used to put the caller's trace context into each call (default: W3C trace
     * context and baggage), e.g. {@code openTelemetry.getPropagators()} of the application.
     */
    public Builder propagators(ContextPropagators propagators) {
      this.propagator = Objects.requireNonNull(propagators, "propagators").getTextMapPropagator();
      return this;
    }

    /**
     * How calls spread over the addresses a target resolves to. {@link LoadBalancing#ROUND_ROBIN} (the
     * default) keeps a connection to every address, e.g. every pod behind a Kubernetes headless Service
     * named by {@code dns:///junction-headless.ns.svc.cluster.local:8001}, and sends each call to the
     * next; the name is resolved again whenever a connection closes, which the server's maximum
     * connection age makes happen regularly, so pods added by a scale-out receive calls too.
     */
    public Builder loadBalancing(LoadBalancing policy) {
      this.loadBalancing = Objects.requireNonNull(policy, "policy");
      return this;
    }

    /**
     * Keep-alive pings on long-lived connections, also while no call is open, so a connection to a pod
     * that went away without closing it is noticed within {@code time + timeout} rather than at the next
     * call. {@code time} must be at least the server's permitted ping interval (Junction: 10 s).
     * Default 30 s and 10 s.
     */
    public Builder keepAlive(Duration time, Duration timeout) {
      if (time.isNegative() || time.isZero() || timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("keepAlive time and timeout must be positive, got " + time + ", " + timeout);
      }
      this.keepAliveTime = time;
      this.keepAliveTimeout = timeout;
      return this;
    }

    /**
     * Interceptors of the application (auth, logging, metrics), run on every call, after the client's
     * own (default metadata, trace context), in the order given.
     */
    public Builder intercept(ClientInterceptor... interceptors) {
      for (ClientInterceptor i : interceptors) {
        this.interceptors.add(Objects.requireNonNull(i, "interceptor"));
      }
      return this;
    }

    /**
     * Retries failed calls by gRPC's service-config retry policy (e.g. {@link RetryPolicy#onUnavailable}:
     * a pod going away during a rollout). Off by default; retried calls still count against their deadline.
     */
    public Builder retry(RetryPolicy policy) {
      this.retry = Objects.requireNonNull(policy, "policy");
      return this;
    }

    /** Uses a channel the caller owns (and closes) instead of creating one. */
    public Builder channel(ManagedChannel channel) {
      this.channel = Objects.requireNonNull(channel, "channel");
      return this;
    }

    public JunctionClient build() {
      return new JunctionClient(this);
    }

    private ManagedChannel newChannel() {
      if (!tls) {
        return configure(NettyChannelBuilder.forTarget(target)).usePlaintext().build();
      }
      if (trustedCertificates == null && clientCertificateChain == null) {
        return configure(NettyChannelBuilder.forTarget(target)).useTransportSecurity().build();
      }
      // gRPC's transport-neutral TLS credentials: no Netty type in the SDK's API or code.
      TlsChannelCredentials.Builder credentials = TlsChannelCredentials.newBuilder();
      try {
        if (trustedCertificates != null) {
          credentials.trustManager(trustedCertificates);
        }
        if (clientCertificateChain != null) {
          credentials.keyManager(clientCertificateChain, clientPrivateKey);
        }
      } catch (IOException | IllegalArgumentException e) {
        throw new IllegalArgumentException("cannot use " + (trustedCertificates == null ? "" : trustedCertificates
            + " as trusted certificates") + (clientCertificateChain == null ? "" : " with client certificate "
            + clientCertificateChain + " and key " + clientPrivateKey) + ": " + e.getMessage(), e);
      }
      return configure(NettyChannelBuilder.forTarget(target, credentials.build())).build();
    }

    private NettyChannelBuilder configure(NettyChannelBuilder b) {
      b.maxInboundMessageSize(maxInboundMessageBytes)
          .defaultLoadBalancingPolicy(loadBalancing.policyName())
          .keepAliveTime(keepAliveTime.toNanos(), TimeUnit.NANOSECONDS)
          .keepAliveTimeout(keepAliveTimeout.toNanos(), TimeUnit.NANOSECONDS)
          .keepAliveWithoutCalls(true);
      if (retry != null) {
        b.defaultServiceConfig(retry.serviceConfig()).enableRetry();
      }
      return b;
    }
  }
}
