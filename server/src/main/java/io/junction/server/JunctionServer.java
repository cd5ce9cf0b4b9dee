package io.junction.server;

import io.grpc.ServerServiceDefinition;
import io.grpc.protobuf.services.HealthStatusManager;
import io.junction.server.backend.BackendRegistry;
import io.junction.server.backend.ModelLoadException;
import io.junction.server.concurrent.NamedThreadFactory;
import io.junction.server.config.AdminAccess;
import io.junction.server.config.ModelControl;
import io.junction.server.config.ServerConfig;
import io.junction.server.drift.DriftMonitor;
import io.junction.server.errors.JunctionException;
import io.junction.server.grpc.FeedbackGrpcService;
import io.junction.server.grpc.GrpcEndpoint;
import io.junction.server.grpc.IncompleteMessageBudget;
import io.junction.server.grpc.InferenceGrpcService;
import io.junction.server.grpc.LargeRequestLane;
import io.junction.server.grpc.ModelHealthPublisher;
import io.junction.server.grpc.RouteAdminService;
import io.junction.server.grpc.TracingServerInterceptor;
import io.junction.server.http.HttpEndpoint;
import io.junction.server.http.LogSettingsApi;
import io.junction.server.http.RestApi;
import io.junction.server.http.StatusPage;
import io.junction.server.inference.InferenceListener;
import io.junction.server.inference.InferencePipeline;
import io.junction.server.inference.ResponseCache;
import io.junction.server.inference.ResponseCacheMetrics;
import io.junction.server.inference.ModelCatalog;
import io.junction.server.inference.RequestMetrics;
import io.junction.server.logging.LogControl;
import io.junction.server.model.ModelAccess;
import io.junction.server.model.ModelConfigResolver;
import io.junction.server.model.ModelManager;
import io.junction.server.model.ModelPager;
import io.junction.server.model.ProcessMemory;
import io.junction.server.model.RepositoryPoller;
import io.junction.server.outcomes.OutcomeTracker;
import io.junction.server.payload.PayloadLogPolicy;
import io.junction.server.payload.PayloadLogger;
import io.junction.server.payload.PayloadLogs;
import io.junction.server.protocol.ServerInfo;
import io.junction.server.repository.ModelRepository;
import io.junction.server.routing.BanditController;
import io.junction.server.routing.CanaryController;
import io.junction.server.routing.CanaryStateFile;
import io.junction.server.routing.RouteRegistry;
import io.junction.server.routing.RoutesFileWatcher;
import io.junction.server.routing.ShadowTraffic;
import io.junction.server.scheduling.BatchPolicy;
import io.junction.server.scheduling.BatchingScheduler;
import io.junction.server.scheduling.DeviceRegistry;
import io.junction.server.status.StatusHistory;
import io.junction.server.status.StatusReport;
import io.junction.server.telemetry.ServerMetrics;
import io.junction.server.telemetry.Telemetry;
import io.junction.server.telemetry.TritonLatencySummaries;
import io.junction.server.tensor.BufferPool;
import io.netty.util.HashedWheelTimer;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wires Junction together and runs it: model repository and manager, scheduler, gRPC and HTTP
 * endpoints. {@link #start()} loads the models and opens the ports; {@link #close()} turns health to
 * NOT_SERVING, stops taking calls, lets accepted requests finish, and releases everything, once.
 */
public final class JunctionServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(JunctionServer.class);
  public static final String NAME = "junction";
  /** Open Inference Protocol extensions this server implements, as Triton names them. */
  /** How often the routes file is re-read for changes. */
  static final Duration ROUTES_POLL_INTERVAL = Duration.ofSeconds(2);
  /** Shadow requests on the devices at once: a slow shadow gets at most this share of them. */
  static final int SHADOW_IN_FLIGHT = 64;
  /** How often bandit routes are re-weighed, and from how many posterior draws. */
  static final Duration BANDIT_TICK = Duration.ofSeconds(1);
  static final int BANDIT_DRAWS = 1000;
  /** How often canaries are judged: a breach is rolled back within this. */
  static final Duration CANARY_TICK = Duration.ofMillis(250);
  public static final List<String> EXTENSIONS = List.of(
      "classification", "model_repository", "model_configuration", "statistics", "schedule_policy", "logging");

  private final ServerConfig config;
  private final BackendRegistry backends;
  private final Telemetry telemetry;
  private final ServerMetrics metrics = new ServerMetrics();
  private final RouteRegistry routes;
  private final ModelManager models;
  private final DeviceRegistry devices;
  private final BatchingScheduler scheduler;
  private final HealthStatusManager health = new HealthStatusManager();
  private final ModelHealthPublisher healthPublisher = new ModelHealthPublisher(health);
  private final AtomicBoolean started = new AtomicBoolean();
  private final AtomicBoolean stopping = new AtomicBoolean();
  /** Set when a drain begins: readiness turns false while calls are still served. */
  private final AtomicBoolean draining = new AtomicBoolean();
  /** Everything opened by start(), closed in reverse order. */
  private final Deque<AutoCloseable> opened = new ArrayDeque<>();
  private volatile GrpcEndpoint grpc;
  private volatile GrpcEndpoint adminGrpc;
  private volatile HttpEndpoint http;

  /** A server with the backends on the class path and tracing off. */
  public JunctionServer(ServerConfig config) {
    this(config, BackendRegistry.discover(), Telemetry.disabled());
  }

  public JunctionServer(ServerConfig config, Telemetry telemetry) {
    this(config, BackendRegistry.discover(), telemetry);
  }

  /** Takes ownership of {@code backends} and {@code telemetry}: {@link #close()} closes them. */
  public JunctionServer(ServerConfig config, BackendRegistry backends, Telemetry telemetry) {
    this(config, backends, telemetry, config.control().measureFootprints() ? ProcessMemory.procfs()
        : OptionalLong::empty);
  }

  /** @param memory where loads read the process's resident memory, to measure what each holds */
  public JunctionServer(ServerConfig config, BackendRegistry backends, Telemetry telemetry, ProcessMemory memory) {
    this.config = config;
    this.backends = backends;
    this.telemetry = telemetry;
    this.devices = new DeviceRegistry(config.devices().declared()
        .orElseGet(() -> DeviceRegistry.discover(JunctionServer.class.getClassLoader(), metrics.registry())),
        config.cpuSlots(), config.devices().gpuSlots(), metrics.registry());
    this.models = new ModelManager(new ModelRepository(config.modelRepository()), backends,
        new ModelConfigResolver(config.defaultMaxBatchSize(), serverParameters(), config.responseCacheBytes() > 0), metrics.registry(),
        memory, devices.ids());
    this.scheduler = new BatchingScheduler(devices, config.maxQueueSize(), telemetry.tracer(), metrics.registry());
    this.routes = new RouteRegistry(name -> models.repository().modelNames().contains(name),
        (name, version) -> versionServed(models, name, version));
  }

  public synchronized JunctionServer start() throws IOException {
    if (!started.compareAndSet(false, true)) {
      throw new IllegalStateException("server already started");
    }
    opened.push(telemetry);
    opened.push(backends);
    opened.push(models);
    opened.push(devices);
    opened.push(scheduler);
    try {
      healthPublisher.serverReady(false);
      models.addListener(healthPublisher);
      models.addListener((name, ready) -> healthPublisher.serverReady(isReady()));
      log.info("loading models from {} (model control mode {}; backends: {})", models.repository().root(),
          config.control().mode(), backends.names());
      models.autoWarmup(config.control().autoWarmup());
      List<String> inRepository = models.repository().modelNames();
      Set<String> missing = config.control().startupModelsMissingFrom(inRepository);
      if (!missing.isEmpty()) {
        throw new IllegalArgumentException("--load-model names " + String.join(", ", missing)
            + ", which the model repository " + models.repository().root() + " does not have (it has "
            + (inRepository.size() <= 20 ? String.join(", ", inRepository)
                : String.join(", ", inRepository.subList(0, 20)) + " … " + inRepository.size() + " in all") + ")");
      }
      ModelAccess access = ModelAccess.direct(models);
      if (config.control().hasBudget()) {
        config.control().memoryBudgets().keySet().stream().filter(d -> !devices.ids().contains(d)).findFirst()
            .ifPresent(d -> {
              throw new IllegalArgumentException("--model-memory-budget names " + d + ", which this server does not "
                  + "have (devices: " + devices.ids() + ")");
            });
        ModelPager pager = new ModelPager(models, config.control().memoryBudgets(), config.control().pinned(),
            metrics.registry());
        opened.push(pager);
        access = pager;
        pager.loadAtStart(inRepository.stream().filter(config.control()::loadsAtStart).toList());
      } else {
        models.loadAll(config.control()::loadsAtStart);
      }
      Optional<CanaryStateFile> canaryState = config.stateDir().isPresent()
          ? Optional.of(new CanaryStateFile(config.stateDir().get())) : Optional.empty();
      OutcomeTracker outcomes = new OutcomeTracker(config.feedback().ledgerSize(), config.feedback().ttl(),
          metrics.registry());
      CanaryController canaries = new CanaryController(routes, CANARY_TICK, metrics.registry(), canaryState,
          outcomes);
      opened.push(canaries);
      BanditController bandits = new BanditController(routes, outcomes, BANDIT_TICK, BANDIT_DRAWS, System.nanoTime(),
          metrics.registry());
      opened.push(bandits);
      ShadowTraffic shadows = new ShadowTraffic(SHADOW_IN_FLIGHT, metrics.registry());
      opened.push(shadows);
      if (config.routesFile().isPresent()) {
        opened.push(new RoutesFileWatcher(config.routesFile().get(), routes, ROUTES_POLL_INTERVAL));
        log.info("routes from {}: {}", config.routesFile().get(), routes.current().routes().keySet());
      }
      if (config.control().mode() == ModelControl.Mode.POLL) {
        opened.push(new RepositoryPoller(models, config.control().pollInterval(), config.control().hasBudget()));
      }

      // Route outcomes feed the canaries' judgement.
      InferenceListener canaryOutcomes = outcome -> outcome.routeDecision().ifPresent(d -> canaries.routed(
          d.route().name(), d.variant().name(), outcome.succeeded(), outcome.latencyNanos()));
      List<InferenceListener> listeners = new ArrayList<>(List.of(new RequestMetrics(metrics.registry()),
          canaryOutcomes, outcomes));
      if (config.metrics().latencySummaries()) {
        listeners.add(new TritonLatencySummaries(metrics.registry()));
      }
      if (config.payloadLog().enabled()) {
        PayloadLogger payloads = PayloadLogs.start(config.payloadLog(), telemetry, NAME, metrics.registry());
        opened.push(payloads); // closed after the endpoints, so the last calls are logged too
        listeners.add(payloads);
      }
      Optional<DriftMonitor> drift = config.drift().map(settings -> new DriftMonitor(settings,
          DriftMonitor.referenceIn(models.repository().root()), metrics.registry()));
      drift.ifPresent(d -> {
        opened.push(d);
        listeners.add(d);
      });
      ResponseCache cache = new ResponseCache(config.responseCacheBytes());
      models.addListener((name, ready) -> cache.dropUnloaded(name, models.readyModels()));
      ResponseCacheMetrics.register(cache, metrics.registry());
      InferencePipeline pipeline = new InferencePipeline(access, scheduler, routes, shadows, cache, listeners);
      ModelCatalog catalog = new ModelCatalog(models, routes, config.control());

      ServerInfo info = new ServerInfo(NAME, version(), EXTENSIONS, this::isReady);
      // One read timeout per call, nearly all cancelled within microseconds: a timer wheel arms and cancels them
      // without a lock or a wake-up, and its thread looks at them ten times a second (so they fire up to 0.1 s late).
      HashedWheelTimer readTimeouts = new HashedWheelTimer(
          new NamedThreadFactory("junction-read-timeouts", true), 100, TimeUnit.MILLISECONDS);
      opened.push(readTimeouts::stop);
      AdminAccess admin = config.admin();
      Optional<LogControl> logs = LogControl.ofThisProcess();
      logs.ifPresent(opened::push); // puts back the levels a request changed
      Optional<AdminAccess> repositoryGuard = config.control().allowsRepositoryApi() && !admin.repositoryApiOpen()
          ? Optional.of(admin) : Optional.empty();
      Counter rapidResets = Counter.builder().name("junction_grpc_rapid_reset_disconnects")
          .help("Connections closed for resetting most of their streams while the server was working on them, or "
              + "for a flood of resets of streams already finished")
          .register(metrics.registry());
      Counter connectionsRefused = Counter.builder().name("junction_grpc_connections_refused")
          .help("gRPC connections closed as they were accepted because their port had --grpc-max-connections open")
          .register(metrics.registry());
      Counter idleFrameFloods = Counter.builder().name("junction_grpc_idle_frame_disconnects")
          .help("Connections closed for a flood of frames that carry no work (SETTINGS, PRIORITY, empty DATA)")
          .register(metrics.registry());
      GrpcEndpoint.Events transportEvents = new GrpcEndpoint.Events(rapidResets::inc, idleFrameFloods::inc,
          connectionsRefused::inc);
      Counter streamsCut = Counter.builder().name("junction_grpc_incomplete_streams_cut")
          .help("Streams ended before their message was whole: its connection or the server held too much of "
              + "messages still arriving, the message stalled, or the client took none of its answer for too long")
          .labelNames("reason").register(metrics.registry());
      IncompleteMessageBudget incomplete = new IncompleteMessageBudget(config.limits().inboundMemory(),
          config.limits().requestReadTimeout(), why -> streamsCut.labelValues(why.name().toLowerCase(Locale.ROOT)).inc());
      GaugeWithCallback.builder().name("junction_grpc_incomplete_message_bytes")
          .help("Bytes held by gRPC messages not yet received whole, on all connections")
          .callback(cb -> cb.call(incomplete.held())).register(metrics.registry());
      Counter largeRefused = Counter.builder().name("junction_grpc_large_requests_refused")
          .help("Large ModelInfer requests refused because those waiting to be parsed held too many bytes")
          .register(metrics.registry());
      // As many threads as half the cores: large requests never take all of them from small calls.
      LargeRequestLane largeRequests = new LargeRequestLane(Math.max(1, Runtime.getRuntime().availableProcessors() / 2),
          config.limits().inboundMemory().totalBytes(), largeRefused::inc);
      opened.push(largeRequests); // closed after the endpoints, which drain the calls using it
      GaugeWithCallback.builder().name("junction_grpc_large_requests_waiting")
          .help("Large ModelInfer requests waiting to be parsed or being parsed")
          .callback(cb -> cb.call(largeRequests.waiting())).register(metrics.registry());
      // Requests from 64 KiB are copied once into these buffers; at most 64 MiB of them wait idle.
      long requestPoolIdleBound = 64L << 20;
      BufferPool requestBuffers = new BufferPool(requestPoolIdleBound, 64L << 20);
      CounterWithCallback.builder().name("junction_request_buffers_allocated")
          .help("Direct buffers allocated for requests of 64 KiB and more, which are copied once into pooled buffers; "
              + "flat under steady load while the pool reuses them")
          .callback(cb -> cb.call(requestBuffers.allocations())).register(metrics.registry());
      GaugeWithCallback.builder().name("junction_request_buffers_idle_bytes")
          .help("Bytes of request buffers kept in the pool for reuse (at most " + (requestPoolIdleBound >> 20)
              + " MiB): direct memory held on purpose after a peak, not a leak")
          .callback(cb -> cb.call(requestBuffers.idleBytes())).register(metrics.registry());
      List<ServerServiceDefinition> services = new ArrayList<>(List.of(
          new InferenceGrpcService(models, catalog, pipeline, info, config.streamWindow(),
              config.limits(), readTimeouts, largeRequests, requestBuffers, telemetry.tracer(),
              telemetry.requestSpans()).definition(repositoryGuard, admin, logs),
          health.getHealthService().bindService(), new FeedbackGrpcService(outcomes).bindService()));
      if (admin.hasCredential() && admin.listener().isPresent()) {
        AdminAccess.Listener listener = admin.listener().get();
        adminGrpc = new GrpcEndpoint(listener.address(), listener.port(), config.limits(), config.tls(),
            List.of(RouteAdminService.guarded(routes, canaries, outcomes, admin)), List.of(), Set.of(), incomplete,
            transportEvents).start();
        opened.push(adminGrpc);
      } else if (admin.hasCredential()) {
        services.add(RouteAdminService.guarded(routes, canaries, outcomes, admin));
      }
      warnAboutAdminAccess(admin);
      grpc = new GrpcEndpoint(config.grpcAddress(), config.grpcPort(), config.limits(), config.tls(), services,
          List.of(new TracingServerInterceptor(telemetry.tracer(), telemetry.propagator(), telemetry.requestSpans())),
          InferenceGrpcService.ON_TRANSPORT_THREAD, incomplete, transportEvents).start();
      opened.push(grpc);
      GrpcEndpoint inference = grpc;
      GrpcEndpoint adminPort = adminGrpc;
      GaugeWithCallback.builder().name("junction_grpc_connections")
          .help("Connections open on the gRPC ports (at most --grpc-max-connections each)")
          .callback(cb -> cb.call(inference.openConnections() + (adminPort == null ? 0 : adminPort.openConnections())))
          .register(metrics.registry());
      if (config.httpPort() >= 0) {
        RestApi rest = new RestApi(catalog, models, pipeline, info, repositoryGuard, drift, outcomes, telemetry.tracer(),
            telemetry.requestSpans(), telemetry.propagator());
        Optional<StatusPage> page = Optional.empty();
        if (config.statusPage().enabled()) {
          StatusHistory history = new StatusHistory(metrics.registry(), config.statusPage().interval(),
              config.statusPage().points());
          opened.push(history);
          page = Optional.of(new StatusPage(new StatusReport(info, models, routes, canaries, outcomes, drift, history)));
        }
        http = new HttpEndpoint(config.httpAddress(), config.httpPort(), config.httpLimits(), () -> !stopping.get(),
            this::isReady, metrics, Optional.of(rest), page, logs.map(l -> new LogSettingsApi(l, admin))).start();
        opened.addLast(http); // closed last: probes answer "not ready" until the very end
      }
      healthPublisher.serverReady(isReady());
      log.info("Junction {} serving gRPC{} on {}:{}{}", version(), config.tls().isPresent() ? " (TLS)" : "",
          config.grpcAddress(), grpc.port(),
          http == null ? "" : ", HTTP on " + config.httpAddress() + ":" + http.port());
      return this;
    } catch (IOException | RuntimeException e) {
      close();
      throw e;
    }
  }

  /** Says at start what an operator would otherwise find out later: a token in plaintext, a locked API. */
  private void warnAboutAdminAccess(AdminAccess admin) {
    String adminAddress = admin.listener().map(AdminAccess.Listener::address).orElse(config.grpcAddress());
    if (admin.token().isPresent() && config.tls().isEmpty() && !isLoopback(adminAddress)) {
      log.warn("the admin token travels unencrypted: admin calls reach {} in plaintext; serve TLS "
          + "(--grpc-use-ssl) or give the admin service a loopback listener (--admin-port)", adminAddress);
    }
    if (admin.listener().isPresent() && !admin.hasCredential()) {
      log.warn("--admin-port is set but there is no admin credential (--admin-token-file or "
          + "--admin-client-identity): no admin service is served");
    }
    if (config.control().allowsRepositoryApi() && !admin.repositoryApiOpen() && !admin.hasCredential()) {
      log.warn("explicit model control without an admin credential: RepositoryModelLoad/Unload are refused to "
          + "everyone; set --admin-token-file, or --repository-api open to let anyone who reaches the port use them");
    }
  }

  /** The config.pbtxt parameters the server's own parts read; backends add theirs. */
  private static Set<String> serverParameters() {
    Set<String> keys = new HashSet<>(BatchPolicy.PARAMETERS);
    keys.addAll(PayloadLogPolicy.PARAMETERS);
    return keys;
  }

  private static boolean isLoopback(String address) {
    try {
      return InetAddress.getByName(address).isLoopbackAddress();
    } catch (UnknownHostException e) {
      return false;
    }
  }

  private static boolean versionServed(ModelManager models, String name, String version) {
    try {
      return models.repository().open(name).selectedVersions().contains(Long.parseLong(version));
    } catch (NumberFormatException | ModelLoadException
        | JunctionException e) {
      return false;
    }
  }

  /** Whether the server takes inference traffic: started, not stopping, and (strictly) all models ready. */
  public boolean isReady() {
    return started.get() && grpc != null && !draining.get() && !stopping.get()
        && (!config.strictReadiness() || models.allReady());
  }

  /**
   * Stops the server the way an orchestrator expects: readiness (HTTP and gRPC health) turns false at
   * once while calls are still served for {@code drainDelay}, so load balancers stop sending; then new
   * calls are refused and every accepted one is finished and answered within {@code exitTimeout}; then
   * everything is released, the HTTP port last. Runs once; {@link #close()} afterwards does nothing.
   */
  public void drainAndClose(Duration drainDelay, Duration exitTimeout) {
    if (!draining.compareAndSet(false, true)) {
      return;
    }
    log.info("Junction draining: not ready; serving for {} ms more, then finishing accepted calls within {} ms",
        drainDelay.toMillis(), exitTimeout.toMillis());
    healthPublisher.serverReady(false);
    try {
      Thread.sleep(drainDelay.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (grpc != null) {
      grpc.close(exitTimeout); // accepted calls finish and are answered before the event loops go
    }
    close();
  }

  public int grpcPort() {
    return grpc.port();
  }

  /** The admin service's own port, when it has one (--admin-port). */
  public Optional<Integer> adminPort() {
    return Optional.ofNullable(adminGrpc).map(GrpcEndpoint::port);
  }

  public Optional<Integer> httpPort() {
    return Optional.ofNullable(http).map(HttpEndpoint::port);
  }

  public ModelManager models() {
    return models;
  }

  /** The Prometheus exposition of every metric now (what {@code /metrics} serves). */
  public byte[] metricsScrape() throws IOException {
    return metrics.scrape();
  }

  /** The routes in force. */
  public RouteRegistry routes() {
    return routes;
  }

  public BatchingScheduler scheduler() {
    return scheduler;
  }

  public static String version() {
    String v = JunctionServer.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }

  @Override
  public synchronized void close() {
    if (!stopping.compareAndSet(false, true)) {
      return;
    }
    log.info("Junction stopping");
    healthPublisher.shutdown();
    // The gRPC endpoint was opened last, so it closes first; the HTTP endpoint sits at the bottom and
    // closes last, so probes answer "not ready" until the very end.
    while (!opened.isEmpty()) {
      AutoCloseable resource = opened.pop();
      try {
        resource.close();
      } catch (Exception e) {
        log.warn("error while closing {}", resource.getClass().getSimpleName(), e);
      }
    }
    log.info("Junction stopped");
  }
}
