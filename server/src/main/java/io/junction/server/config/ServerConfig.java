package io.junction.server.config;

import io.junction.server.JunctionServer;
import io.junction.server.drift.DriftMonitor;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * Everything {@link JunctionServer} needs to start.
 *
 * @param modelRepository the model repository directory
 * @param grpcAddress interface the gRPC port binds to
 * @param grpcPort 0 picks a free port
 * @param httpAddress interface the HTTP port (health, metrics) binds to
 * @param httpPort 0 picks a free port, -1 disables the HTTP endpoint
 * @param cpuSlots model executions that may run on the CPU at once, over all models
 * @param maxQueueSize requests that may wait per model and priority level where config.pbtxt sets no
 *     {@code max_queue_size}
 * @param streamWindow requests of one ModelStreamInfer stream that may be in flight at once
 * @param defaultMaxBatchSize max_batch_size for batchable models without config.pbtxt
 * @param tls TLS for the gRPC port; empty for plaintext
 * @param control how models are loaded and unloaded (Triton's model control modes)
 * @param routesFile a YAML file of traffic-split routes, if any
 * @param admin the admin credential, what it guards and where the admin service listens; without a
 *     credential the admin service is not served
 * @param stateDir where decisions taken at run time (canary promotions and rollbacks) are kept so that
 *     they survive a restart; empty: they do not
 * @param httpLimits request timeout, connection cap and request size of the HTTP port
 * @param drift drift monitoring, when on
 * @param devices the devices models are placed on (discovered by default) and GPU slots
 * @param statusPage the status page on the HTTP port
 * @param metrics optional metrics (Triton's latency summaries)
 * @param feedback how feedback is joined to the variants that answered
 * @param payloadLog payload logging (sinks, what is logged); off unless a sink is set
 * @param strictReadiness ServerReady is true only while every model asked for is ready (Triton's
 *     default); otherwise it is true once the server has started
 * @param responseCacheBytes the response cache's size, shared by the models whose config.pbtxt enables it
 *     ({@code response_cache { enable: true }}); 0: no cache
 */
public record ServerConfig(Path modelRepository, String grpcAddress, int grpcPort, String httpAddress, int httpPort,
    int cpuSlots, int maxQueueSize, int streamWindow, int defaultMaxBatchSize,
    boolean strictReadiness, GrpcLimits limits, Optional<TlsConfig> tls,
    ModelControl control, Optional<Path> routesFile, AdminAccess admin, Optional<Path> stateDir,
    HttpLimits httpLimits, PayloadLogConfig payloadLog, Optional<DriftMonitor.Settings> drift, DeviceConfig devices,
    FeedbackConfig feedback, StatusPageConfig statusPage, MetricsConfig metrics, long responseCacheBytes) {
  public static final int DEFAULT_GRPC_PORT = 8001;
  public static final int DEFAULT_HTTP_PORT = 8002;
  public static final int DEFAULT_MAX_QUEUE_SIZE = 1024;
  public static final int DEFAULT_STREAM_WINDOW = 64;
  /** Triton's ONNX Runtime backend default. */
  public static final int DEFAULT_MAX_BATCH_SIZE = 4;

  public ServerConfig {
    Objects.requireNonNull(modelRepository, "modelRepository");
    Objects.requireNonNull(grpcAddress, "grpcAddress");
    Objects.requireNonNull(httpAddress, "httpAddress");
    Objects.requireNonNull(limits, "limits");
    Objects.requireNonNull(devices, "devices");
    Objects.requireNonNull(feedback, "feedback");
    Objects.requireNonNull(statusPage, "statusPage");
    Objects.requireNonNull(tls, "tls");
    Objects.requireNonNull(control, "control");
    Objects.requireNonNull(routesFile, "routesFile");
    Objects.requireNonNull(admin, "admin");
    Objects.requireNonNull(stateDir, "stateDir");
    Objects.requireNonNull(httpLimits, "httpLimits");
    Objects.requireNonNull(payloadLog, "payloadLog");
    Objects.requireNonNull(drift, "drift");
    port("the gRPC port (--grpc-port)", grpcPort, false);
    port("the HTTP port (--http-port)", httpPort, true);
    if (cpuSlots < 1) {
      throw new IllegalArgumentException("CPU execution slots (--cpu-slots) must be at least 1, got " + cpuSlots);
    }
    if (maxQueueSize < 1) {
      throw new IllegalArgumentException("the queue size (--max-queue-size) must be at least 1, got " + maxQueueSize);
    }
    if (streamWindow < 1) {
      throw new IllegalArgumentException("streamWindow must be positive, got " + streamWindow);
    }
    if (responseCacheBytes < 0) {
      throw new IllegalArgumentException("the response cache's size (--response-cache-bytes) must be at least 0, got "
          + responseCacheBytes);
    }
    if (defaultMaxBatchSize < 0) {
      throw new IllegalArgumentException("the default max batch size (--default-max-batch-size) must be at least 0, got " + defaultMaxBatchSize);
    }
  }

  /** Defaults for a repository: standard ports on all interfaces, one CPU slot per core. */
  public static ServerConfig defaults(Path modelRepository) {
    return new ServerConfig(modelRepository, "0.0.0.0", DEFAULT_GRPC_PORT, "0.0.0.0", DEFAULT_HTTP_PORT,
        Runtime.getRuntime().availableProcessors(), DEFAULT_MAX_QUEUE_SIZE, DEFAULT_STREAM_WINDOW,
        DEFAULT_MAX_BATCH_SIZE, true, GrpcLimits.DEFAULTS, Optional.empty(),
        ModelControl.NONE, Optional.empty(), AdminAccess.NONE, Optional.empty(), HttpLimits.DEFAULTS,
        PayloadLogConfig.OFF, Optional.empty(), DeviceConfig.DISCOVER, FeedbackConfig.DEFAULTS,
        StatusPageConfig.DEFAULTS, MetricsConfig.DEFAULTS, 0);
  }

  /** Loopback, free ports: for tests and embedding. */
  public static ServerConfig loopback(Path modelRepository) {
    return new ServerConfig(modelRepository, "127.0.0.1", 0, "127.0.0.1", 0,
        Runtime.getRuntime().availableProcessors(), DEFAULT_MAX_QUEUE_SIZE, DEFAULT_STREAM_WINDOW,
        DEFAULT_MAX_BATCH_SIZE, true, GrpcLimits.DEFAULTS, Optional.empty(),
        ModelControl.NONE, Optional.empty(), AdminAccess.NONE, Optional.empty(), HttpLimits.DEFAULTS,
        PayloadLogConfig.OFF, Optional.empty(), DeviceConfig.DISCOVER, FeedbackConfig.DEFAULTS,
        StatusPageConfig.DEFAULTS, MetricsConfig.DEFAULTS, 0);
  }

  /** The gRPC listener on another address or port (e.g. several servers on 127.0.0.x behind one name). */
  public ServerConfig withGrpcEndpoint(String address, int port) {
    return new ServerConfig(modelRepository, address, port, httpAddress, httpPort, cpuSlots,
        maxQueueSize, streamWindow, defaultMaxBatchSize, strictReadiness, limits, tls, control, routesFile, admin, stateDir, httpLimits, payloadLog, drift, devices, feedback, statusPage, metrics, responseCacheBytes);
  }

  public ServerConfig withLimits(GrpcLimits newLimits) {
    return new ServerConfig(modelRepository, grpcAddress, grpcPort, httpAddress, httpPort, cpuSlots,
        maxQueueSize, streamWindow, defaultMaxBatchSize, strictReadiness, newLimits, tls, control, routesFile, admin, stateDir, httpLimits, payloadLog, drift, devices, feedback, statusPage, metrics, responseCacheBytes);
  }

  public ServerConfig withScheduling(int slots, int queueSize) {
    return new ServerConfig(modelRepository, grpcAddress, grpcPort, httpAddress, httpPort, slots, queueSize,
        streamWindow, defaultMaxBatchSize, strictReadiness, limits, tls, control, routesFile, admin, stateDir, httpLimits, payloadLog, drift, devices, feedback, statusPage, metrics, responseCacheBytes);
  }

  public ServerConfig withTls(TlsConfig newTls) {
    return new ServerConfig(modelRepository, grpcAddress, grpcPort, httpAddress, httpPort, cpuSlots,
        maxQueueSize, streamWindow, defaultMaxBatchSize, strictReadiness, limits, Optional.of(newTls), control, routesFile, admin, stateDir, httpLimits, payloadLog, drift, devices, feedback, statusPage, metrics, responseCacheBytes);
  }

  public ServerConfig withControl(ModelControl newControl) {
    return new ServerConfig(modelRepository, grpcAddress, grpcPort, httpAddress, httpPort, cpuSlots, maxQueueSize,
        streamWindow, defaultMaxBatchSize, strictReadiness, limits, tls, newControl, routesFile, admin, stateDir, httpLimits, payloadLog, drift, devices, feedback, statusPage, metrics, responseCacheBytes);
  }

  public ServerConfig withRoutesFile(Path file) {
    return new ServerConfig(modelRepository, grpcAddress, grpcPort, httpAddress, httpPort, cpuSlots, maxQueueSize,
        streamWindow, defaultMaxBatchSize, strictReadiness, limits, tls, control, Optional.of(file), admin, stateDir, httpLimits, payloadLog, drift, devices, feedback, statusPage, metrics, responseCacheBytes);
  }

  public ServerConfig withAdminToken(String token) {
    return withAdmin(admin.withToken(token));
  }

  /** Lets anyone who reaches the inference port load and unload models (--repository-api open). */
  public ServerConfig withOpenRepositoryApi() {
    return withAdmin(admin.withRepositoryApiOpen(true));
  }

  public ServerConfig withAdmin(AdminAccess newAdmin) {
    return new ServerConfig(modelRepository, grpcAddress, grpcPort, httpAddress, httpPort, cpuSlots, maxQueueSize,
        streamWindow, defaultMaxBatchSize, strictReadiness, limits, tls, control, routesFile, newAdmin, stateDir, httpLimits, payloadLog, drift, devices, feedback, statusPage, metrics, responseCacheBytes);
  }

  public ServerConfig withStateDir(Path dir) {
    return new ServerConfig(modelRepository, grpcAddress, grpcPort, httpAddress, httpPort, cpuSlots, maxQueueSize,
        streamWindow, defaultMaxBatchSize, strictReadiness, limits, tls, control, routesFile, admin, Optional.of(dir), httpLimits, payloadLog, drift, devices, feedback, statusPage, metrics, responseCacheBytes);
  }

  public ServerConfig withHttpLimits(HttpLimits limits) {
    return new ServerConfig(modelRepository, grpcAddress, grpcPort, httpAddress, httpPort, cpuSlots, maxQueueSize,
        streamWindow, defaultMaxBatchSize, strictReadiness, this.limits, tls, control, routesFile, admin, stateDir, limits, payloadLog, drift, devices, feedback, statusPage, metrics, responseCacheBytes);
  }

  public ServerConfig withPayloadLog(PayloadLogConfig log) {
    return new ServerConfig(modelRepository, grpcAddress, grpcPort, httpAddress, httpPort, cpuSlots, maxQueueSize,
        streamWindow, defaultMaxBatchSize, strictReadiness, limits, tls, control, routesFile, admin, stateDir, httpLimits,
        log, drift, devices, feedback, statusPage, metrics, responseCacheBytes);
  }

  public ServerConfig withDrift(DriftMonitor.Settings settings) {
    return new ServerConfig(modelRepository, grpcAddress, grpcPort, httpAddress, httpPort, cpuSlots, maxQueueSize,
        streamWindow, defaultMaxBatchSize, strictReadiness, limits, tls, control, routesFile, admin, stateDir, httpLimits,
        payloadLog, Optional.of(settings), devices, feedback, statusPage, metrics, responseCacheBytes);
  }

  public ServerConfig withDevices(DeviceConfig newDevices) {
    return new ServerConfig(modelRepository, grpcAddress, grpcPort, httpAddress, httpPort, cpuSlots, maxQueueSize,
        streamWindow, defaultMaxBatchSize, strictReadiness, limits, tls, control, routesFile, admin, stateDir, httpLimits,
        payloadLog, drift, newDevices, feedback, statusPage, metrics, responseCacheBytes);
  }

  public ServerConfig withFeedback(FeedbackConfig newFeedback) {
    return new ServerConfig(modelRepository, grpcAddress, grpcPort, httpAddress, httpPort, cpuSlots, maxQueueSize,
        streamWindow, defaultMaxBatchSize, strictReadiness, limits, tls, control, routesFile, admin, stateDir, httpLimits,
        payloadLog, drift, devices, newFeedback, statusPage, metrics, responseCacheBytes);
  }

  public ServerConfig withStatusPage(StatusPageConfig page) {
    return new ServerConfig(modelRepository, grpcAddress, grpcPort, httpAddress, httpPort, cpuSlots, maxQueueSize,
        streamWindow, defaultMaxBatchSize, strictReadiness, limits, tls, control, routesFile, admin, stateDir, httpLimits,
        payloadLog, drift, devices, feedback, page, metrics, responseCacheBytes);
  }

  public ServerConfig withMetrics(MetricsConfig newMetrics) {
    return new ServerConfig(modelRepository, grpcAddress, grpcPort, httpAddress, httpPort, cpuSlots, maxQueueSize,
        streamWindow, defaultMaxBatchSize, strictReadiness, limits, tls, control, routesFile, admin, stateDir, httpLimits,
        payloadLog, drift, devices, feedback, statusPage, newMetrics, responseCacheBytes);
  }

  public ServerConfig withResponseCacheBytes(long bytes) {
    return new ServerConfig(modelRepository, grpcAddress, grpcPort, httpAddress, httpPort, cpuSlots, maxQueueSize,
        streamWindow, defaultMaxBatchSize, strictReadiness, limits, tls, control, routesFile, admin, stateDir, httpLimits,
        payloadLog, drift, devices, feedback, statusPage, metrics, bytes);
  }

  private static void port(String name, int port, boolean allowDisabled) {
    if (port > 65535 || port < (allowDisabled ? -1 : 0)) {
      throw new IllegalArgumentException(name + " must be 0..65535" + (allowDisabled ? " or -1" : "") + ", got " + port);
    }
  }
}
