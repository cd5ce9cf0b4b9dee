package io.junction.server.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.junction.server.concurrent.NamedThreadFactory;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

/**
 * The HTTP port: Kubernetes probes {@code /health/live} and {@code /health/ready} (also under KServe's
 * {@code /v2/health/...}), 200 when true and 503 when not, and Prometheus {@code /metrics}. Owns its
 * server and its two {@code junction-http} threads.
 */
public final class HttpEndpoint implements AutoCloseable {
  /** Where {@code /metrics} comes from. */
  public interface Metrics {
    String contentType();

    byte[] scrape() throws IOException;
  }

  private final HttpServer server;
  private final ExecutorService executor;
  private final AtomicBoolean closed = new AtomicBoolean();

  public HttpEndpoint(String address, int port, BooleanSupplier live, BooleanSupplier ready, Metrics metrics)
      throws IOException {
    this.server = HttpServer.create(new InetSocketAddress(address, port), 64);
    this.executor = Executors.newFixedThreadPool(2, new NamedThreadFactory("junction-http", true));
    server.setExecutor(executor);
    server.createContext("/health/live", exchange -> probe(exchange, live));
    server.createContext("/health/ready", exchange -> probe(exchange, ready));
    server.createContext("/v2/health/live", exchange -> probe(exchange, live));
    server.createContext("/v2/health/ready", exchange -> probe(exchange, ready));
    server.createContext("/metrics", exchange -> metrics(exchange, metrics));
  }

  public HttpEndpoint start() {
    server.start();
    return this;
  }

  public int port() {
    return server.getAddress().getPort();
  }

  private static void probe(HttpExchange exchange, BooleanSupplier check) throws IOException {
    try (exchange) {
      if (!"GET".equals(exchange.getRequestMethod()) && !"HEAD".equals(exchange.getRequestMethod())) {
        exchange.sendResponseHeaders(405, -1);
        return;
      }
      boolean ok = check.getAsBoolean();
      byte[] body = (ok ? "OK\n" : "NOT READY\n").getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
      if ("HEAD".equals(exchange.getRequestMethod())) {
        exchange.sendResponseHeaders(ok ? 200 : 503, -1);
        return;
      }
      exchange.sendResponseHeaders(ok ? 200 : 503, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    }
  }

  private static void metrics(HttpExchange exchange, Metrics metrics) throws IOException {
    try (exchange) {
      if (!"GET".equals(exchange.getRequestMethod())) {
        exchange.sendResponseHeaders(405, -1);
        return;
      }
      byte[] body = metrics.scrape();
      exchange.getResponseHeaders().set("Content-Type", metrics.contentType());
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    }
  }

  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      server.stop(0);
      executor.shutdown();
    }
  }
}
