package io.junction.server.grpc;

import com.google.common.util.concurrent.MoreExecutors;
import com.sun.management.UnixOperatingSystemMXBean;
import io.grpc.Server;
import io.grpc.ServerInterceptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.InternalProtocolNegotiators;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.ProtoReflectionService;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.junction.server.concurrent.NamedThreadFactory;
import io.junction.server.concurrent.SocketTransport;
import io.junction.server.config.GrpcLimits;
import io.junction.server.config.TlsConfig;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gRPC port: a Netty server with explicit limits, its own event loops and executor, the given
 * services plus server reflection (v1 and v1alpha).
 *
 * <p>Threads: the methods named as running on the transport thread (the inference calls) run where the event
 * loop reads them, unless their connection sends requests of {@link #OFFLOAD_REQUEST_BYTES} or more; every other
 * method runs on the {@code junction-grpc} executor ({@link CallPlacement}).
 *
 * <p>Ownership: this class creates and owns the boss and worker event loop groups (epoll where the
 * platform has it, NIO elsewhere) and the {@code junction-grpc} executor that runs service methods;
 * {@link #close()} shuts down all of them, once.
 */
public final class GrpcEndpoint implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(GrpcEndpoint.class);
  private static final long SHUTDOWN_GRACE_SECONDS = 30;
  /**
   * The request size from which a connection's inference calls run on the executor rather than the event loop:
   * between the 110 KB images that run faster on the event loop and the 602 KB ones that run faster on the
   * executor (BENCHMARKS.md, "The 602 KB regression").
   */
  static final int OFFLOAD_REQUEST_BYTES = 256 * 1024;
  /**
   * Frames that ask for work and carry none (SETTINGS, PRIORITY, empty DATA) a connection may send per window:
   * honest clients send a handful a connection, a flood hundreds of thousands a second (IdleFrameGuard). WINDOW_UPDATE
   * frames get as many again, and more as the server sends DATA.
   */
  static final int MAX_IDLE_FRAMES = 1000;
  static final Duration IDLE_FRAME_WINDOW = Duration.ofSeconds(10);
  /** Files a server keeps open besides gRPC connections: models, logs, the HTTP port's connections, the JVM's own. */
  private static final int FILES_BESIDES_CONNECTIONS = 1024;

  private final InetSocketAddress address;
  private final EventLoopGroup boss;
  private final EventLoopGroup workers;
  /**
   * Runs the methods that are not run on the transport thread. Its queue is not bounded here because gRPC
   * cannot reject work it has accepted on a stream; the work in it is bounded instead by
   * maxConcurrentCallsPerConnection.
   */
  private final ExecutorService callExecutor;
  private final Server server;
  private final AtomicBoolean closed = new AtomicBoolean();
  /** The TLS context and its file watches; null for plaintext. */
  private final ReloadingTls tls;
  private final ConnectionCap connections;

  /**
   * What an endpoint tells of the connections it closes for a client's behaviour (metrics).
   *
   * @param rapidReset one was closed for having streams reset while the server worked on them
   * @param idleFrameFlood one was closed for a flood of frames that carry no work
   * @param connectionRefused one was closed as it was accepted, the port's connection cap reached
   */
  public record Events(Runnable rapidReset, Runnable idleFrameFlood, Runnable connectionRefused) {
    /** Told to no one: for endpoints whose closes nobody counts. */
    public static final Events NONE = new Events(() -> { }, () -> { }, () -> { });
  }

  /**
   * @param interceptors applied to every call of every service, the first one outermost
   * @param onTransportThread full names of the methods whose calls run on the event loop that reads them: only
   *     methods whose every callback is short and never blocks
   * @param incomplete what messages still arriving may hold, shared with the server's other endpoints
   * @param events told of each connection the endpoint closes for a client's behaviour
   */
  public GrpcEndpoint(String address, int port, GrpcLimits limits, Optional<TlsConfig> tls,
      List<ServerServiceDefinition> services, List<ServerInterceptor> interceptors, Set<String> onTransportThread,
      IncompleteMessageBudget incomplete, Events events) {
    SocketTransport transport = SocketTransport.best();
    IoHandlerFactory io = transport.ioHandlers();
    int cores = Runtime.getRuntime().availableProcessors();
    this.boss = new MultiThreadIoEventLoopGroup(1, new NamedThreadFactory("junction-grpc-boss", true), io);
    this.workers = new MultiThreadIoEventLoopGroup(cores,
        new NamedThreadFactory("junction-grpc-io", true, TransportThread::new), io);
    this.callExecutor = Executors.newFixedThreadPool(Math.max(2, cores), new NamedThreadFactory("junction-grpc", true));

    this.address = new InetSocketAddress(address, port);
    NettyServerBuilder builder = NettyServerBuilder.forAddress(this.address)
        .channelType(transport.serverChannel())
        .bossEventLoopGroup(boss)
        .workerEventLoopGroup(workers)
        // Every callback where it arrives, unless CallPlacement (below) chooses callExecutor for the call.
        .executor(MoreExecutors.directExecutor())
        .maxInboundMessageSize(limits.maxInboundMessageBytes())
        .maxInboundMetadataSize(limits.maxInboundMetadataBytes())
        .maxConcurrentCallsPerConnection(limits.maxConcurrentCallsPerConnection())
        .keepAliveTime(limits.keepAliveTime().toNanos(), TimeUnit.NANOSECONDS)
        .keepAliveTimeout(limits.keepAliveTimeout().toNanos(), TimeUnit.NANOSECONDS)
        .permitKeepAliveTime(limits.permitKeepAliveTime().toNanos(), TimeUnit.NANOSECONDS)
        .permitKeepAliveWithoutCalls(limits.permitKeepAliveWithoutCalls())
        .maxConnectionIdle(limits.maxConnectionIdle().toNanos(), TimeUnit.NANOSECONDS)
        .maxConnectionAge(limits.maxConnectionAge().toNanos(), TimeUnit.NANOSECONDS)
        .maxConnectionAgeGrace(limits.maxConnectionAgeGrace().toNanos(), TimeUnit.NANOSECONDS)
        // Every answer carries a new trace id. Indexed, each would enter HPACK's dynamic table on both ends of the
        // connection, never to be used again, and push out the headers that every call repeats (content-type,
        // grpc-status), to be sent in full again: ~0.7 µs of the event loop's CPU a call (BENCHMARKS.md).
        .neverIndexMetadataKey(TracingServerInterceptor.TRACE_ID);
    if (tls.isPresent()) {
      try {
        this.tls = new ReloadingTls(tls.get());
      } catch (IllegalArgumentException e) {
        closeThreads();
        throw e;
      }
    } else {
      this.tls = null;
    }
    this.connections = new ConnectionCap(limits.maxConnections(), events.connectionRefused());
    // Rapid reset is judged by premature resets (PrematureResetGuard), not grpc-java's count of all
    // RST_STREAM frames, which disconnects honest clients that cancel calls.
    PrematureResetGuard.Policy resets = new PrematureResetGuard.Policy(limits.prematureResetMinimum(),
        limits.prematureResetRatio(), limits.prematureResetWindow().toNanos(), events.rapidReset());
    IdleFrameGuard.Policy idleFrames = new IdleFrameGuard.Policy(MAX_IDLE_FRAMES, IDLE_FRAME_WINDOW.toNanos(),
        events.idleFrameFlood());
    builder.protocolNegotiator(new GuardedNegotiator(this.tls != null
        ? InternalProtocolNegotiators.serverTls(this.tls.context()) : InternalProtocolNegotiators.serverPlaintext(),
        http2 -> List.of(connections, new IdleFrameGuard(idleFrames), new PrematureResetGuard(resets),
            new IncompleteMessageGuard(incomplete, http2.connection(), limits.answerStallTimeout()))));
    services.forEach(builder::addService);
    // NettyServerBuilder runs the last added interceptor first.
    for (int i = interceptors.size() - 1; i >= 0; i--) {
      builder.intercept(interceptors.get(i));
    }
    CallPlacement placement = new CallPlacement(callExecutor, onTransportThread, OFFLOAD_REQUEST_BYTES);
    builder.callExecutor(placement)
        .addTransportFilter(placement.connections())
        .addStreamTracerFactory(placement.requestSizes());
    builder.addService(ProtoReflectionServiceV1.newInstance());
    addV1AlphaReflection(builder);
    this.server = builder.build();
    log.debug("gRPC transport: {}", transport.name());
  }

  @SuppressWarnings("deprecation") // v1alpha is what grpcurl and ghz releases of the last years still ask for
  private static void addV1AlphaReflection(NettyServerBuilder builder) {
    builder.addService(ProtoReflectionService.newInstance());
  }

  public GrpcEndpoint start() throws IOException {
    try {
      server.start();
    } catch (IOException e) {
      Throwable reason = e; // grpc-java says only "Failed to bind to address"; the socket's error says why
      while (reason.getCause() != null) {
        reason = reason.getCause();
      }
      throw new IOException("cannot listen for gRPC on " + address + ": " + reason.getMessage(), e);
    }
    warnIfOverFileLimit();
    return this;
  }

  /**
   * The connection cap protects the process only below its open-file limit: past the limit, accepting fails
   * ("Too many open files") for every port and every model file alike.
   */
  private void warnIfOverFileLimit() {
    if (ManagementFactory.getOperatingSystemMXBean() instanceof UnixOperatingSystemMXBean unix) {
      long files = unix.getMaxFileDescriptorCount();
      if (connections.max() + FILES_BESIDES_CONNECTIONS > files) {
        log.warn("the process may open {} files (ulimit -n), too few for --grpc-max-connections {} and the files "
            + "and other sockets it needs besides: raise the limit or lower the cap", files, connections.max());
      }
    }
  }

  public int port() {
    return server.getPort();
  }

  /** Connections open on this port now. */
  public int openConnections() {
    return connections.open();
  }

  /** Stops taking calls, lets open calls finish within a grace period, then releases threads. */
  @Override
  public void close() {
    close(Duration.ofSeconds(SHUTDOWN_GRACE_SECONDS));
  }

  /**
   * Stops taking calls (new ones are refused, clients are sent GOAWAY), lets every accepted call finish
   * and its answer be written within {@code grace}, cancels what is still open after that, then
   * releases the event loops and the executor. Runs once.
   */
  public void close(Duration grace) {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    server.shutdown();
    try {
      if (!server.awaitTermination(grace.toMillis(), TimeUnit.MILLISECONDS)) {
        log.warn("gRPC calls still open after {} ms; cancelling them", grace.toMillis());
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      server.shutdownNow();
      Thread.currentThread().interrupt();
    } finally {
      closeThreads();
    }
  }

  private void closeThreads() {
    if (tls != null) {
      tls.close();
    }
    callExecutor.shutdown();
    boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
  }
}
