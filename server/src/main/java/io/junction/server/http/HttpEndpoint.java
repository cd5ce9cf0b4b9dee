package io.junction.server.http;

import io.junction.server.concurrent.NamedThreadFactory;
import io.junction.server.concurrent.SocketTransport;
import io.junction.server.config.HttpLimits;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerAdapter;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.util.concurrent.DefaultEventExecutorGroup;
import io.netty.util.concurrent.EventExecutorGroup;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * The HTTP port: Kubernetes probes {@code /health/live} and {@code /health/ready} (also under KServe's
 * {@code /v2/health/...}), 200 when true and 503 when not, Prometheus {@code /metrics}, and the REST
 * form of the inference API ({@link RestApi}).
 *
 * <p>On Netty, with the defences a probe port needs ({@link HttpLimits}): a connection must deliver a
 * whole request within the request timeout or it is closed (slowloris), connections beyond the cap are
 * closed at once, and requests are size-capped. A connection the server ends is closed in stages
 * ({@link StagedClose}), so that a client still sending reads its answer. Event-loop threads
 * ({@code junction-http-io}) only move bytes; answers are made on {@code junction-http} threads, at least two, so a
 * slow scrape never holds a probe. Both grow with the machine's cores, as the gRPC endpoint's threads do: a REST call's
 * CPU is about two fifths moving bytes and three fifths reading its JSON and writing the answer (BENCHMARKS.md, "REST
 * calls"), so fixed counts would cap REST calls on a large machine however many cores stood idle. Owns its threads.
 */
public final class HttpEndpoint implements AutoCloseable {
  /** Where {@code /metrics} comes from. */
  public interface Metrics {
    String contentType();

    byte[] scrape() throws IOException;

    /** The exposition in the format the scraper's Accept header asks for (null: the default text). */
    Scrape scrape(String accept) throws IOException;
  }

  /** One exposition and its content type. */
  public record Scrape(String contentType, byte[] body) {}

  /** The longest request line taken (method, path and version); a longer one is answered 414. */
  static final int MAX_REQUEST_LINE_BYTES = 4096;
  /** The most bytes of headers taken; more are answered 431. */
  static final int MAX_HEADER_BYTES = 8192;

  private final EventLoopGroup boss;
  private final EventLoopGroup io;
  private final EventExecutorGroup answers;
  private final ServerBootstrap bootstrap;
  private final InetSocketAddress address;
  private final AtomicInteger open = new AtomicInteger();
  /** Each accepted connection until its pipeline is torn down, and the teardown's completion. */
  private final Map<Channel, CompletableFuture<Void>> connections = new ConcurrentHashMap<>();
  private final AtomicBoolean closed = new AtomicBoolean();
  private volatile Channel listener;

  /**
   * @param rest the REST form of the inference API, when served on this port
   * @param status the status page, when served
   * @param logSettings Triton's logging extension, when served
   */
  public HttpEndpoint(String address, int port, HttpLimits limits, BooleanSupplier live, BooleanSupplier ready,
      Metrics metrics, Optional<RestApi> rest, Optional<StatusPage> status, Optional<LogSettingsApi> logSettings) {
    this.address = new InetSocketAddress(address, port);
    SocketTransport transport = SocketTransport.best();
    this.boss = new MultiThreadIoEventLoopGroup(1, new NamedThreadFactory("junction-http-accept", true),
        transport.ioHandlers());
    int cores = Runtime.getRuntime().availableProcessors();
    this.io = new MultiThreadIoEventLoopGroup(Math.max(1, cores / 2), new NamedThreadFactory("junction-http-io", true),
        transport.ioHandlers());
    this.answers = new DefaultEventExecutorGroup(Math.max(2, cores), new NamedThreadFactory("junction-http", true));
    HttpRoutes routes = new HttpRoutes(live, ready, metrics, rest, status, logSettings);
    this.bootstrap = new ServerBootstrap().group(boss, io).channel(transport.serverChannel())
        .option(ChannelOption.SO_BACKLOG, 128)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            if (open.incrementAndGet() > limits.maxConnections()) {
              open.decrementAndGet();
              ch.close(); // over the cap: the probes of the well-behaved get the room
              return;
            }
            ch.closeFuture().addListener(f -> open.decrementAndGet());
            CompletableFuture<Void> tornDown = new CompletableFuture<>();
            connections.put(ch, tornDown);
            ch.pipeline()
                .addLast(new ChannelHandlerAdapter() {
                  /** First in the pipeline, so removed last as a closed connection's pipeline is torn down. */
                  @Override
                  public void handlerRemoved(ChannelHandlerContext ctx) {
                    connections.remove(ch);
                    tornDown.complete(null);
                  }
                })
                .addLast(new StagedClose(closed::get))
                .addLast(new HttpServerCodec(MAX_REQUEST_LINE_BYTES, MAX_HEADER_BYTES, 8192))
                .addLast(new ContentCodings())
                .addLast(new HttpServerKeepAliveHandler())
                .addLast(new RequestAggregator(limits.maxRequestBytes()))
                .addLast(new InOrderAnswers())
                .addLast(new RequestDeadline(limits.requestTimeout().toNanos()))
                .addLast(answers, routes);
          }
        });
  }

  public HttpEndpoint start() throws IOException {
    try {
      listener = bootstrap.bind(address).sync().channel();
    } catch (Exception e) {
      close();
      throw new IOException("cannot listen for HTTP on " + address + ": " + e.getMessage(), e);
    }
    return this;
  }

  public int port() {
    return ((InetSocketAddress) listener.localAddress()).getPort();
  }

  /** Connections open now (for tests of the cap). */
  int openConnections() {
    return open.get();
  }

  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      if (listener != null) {
        listener.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
      }
      boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      // A connection's teardown goes back and forth between the event loop and the answering executor (its last
      // handler runs there): the connections still open are closed and torn down while both run, or the teardown
      // meets a stopped executor and logs the rejected task.
      List<CompletableFuture<Void>> teardowns = List.copyOf(connections.values());
      connections.keySet().forEach(Channel::close);
      try {
        CompletableFuture.allOf(teardowns.toArray(CompletableFuture[]::new)).get(2, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (ExecutionException | TimeoutException e) {
        // stop regardless: a teardown that takes this long has nothing left worth waiting for
      }
      io.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      answers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
  }
}
