package io.junction.loadtest.bench;

import com.sun.net.httpserver.HttpServer;
import io.junction.loadtest.bench.SpanCostProbe.Way;
import io.junction.testkit.OtlpReceiver;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * What one exported span costs the process that makes it, taken apart: each {@link Variant} runs in its
 * own JVM ({@link SpanCostProbe}) pinned to the server's core and makes 12,000 spans a second shaped like
 * Junction's request span, while the OTLP receivers (gRPC and HTTP, counting only) run here on the load
 * generator's core. Every variant is measured once per repetition, in turn, so that a drift of the machine
 * hits all of them; the summary gives each one's median and lowest CPU µs per span (the lowest is the least
 * disturbed by neighbours, which only ever add) and its heap bytes per span, which do not depend on noise.
 *
 * <p>The ways compare where the cost is: making spans at all, the OTLP serialisation, the sending, the
 * senders (OkHttp for gRPC and HTTP, the JDK's HttpClient for HTTP), the number of attributes, the SDK's
 * attribute length limit and the size of export batches, and the SDK's OTLP marshaler against a hand-written
 * serialiser ({@link HandWrittenOtlp}). Run with {@code loadtest/bench/span-cost.sh [repeats] [seconds measured]
 * [seconds of warm-up] [ways, by number: e.g. 2,3,4]}.
 */
public final class SpanCostBenchmark {
  private static final int RATE = 12_000;

  /** One way of exporting, with the attributes per span, the export batch and the SDK's length limit. */
  record Variant(String label, Way way, int attributes, int exportBatch, int lengthLimit) {}

  private static final List<Variant> VARIANTS = List.of(
      new Variant("no-op tracer (the loop alone)", Way.NOOP, 18, 2048, 0),
      new Variant("SDK spans, dropped unread by the exporter", Way.MADE, 18, 2048, 0),
      new Variant("... and serialised to OTLP, not sent", Way.SERIALISED, 18, 2048, 0),
      new Variant("... serialised by a hand-written writer, not sent", Way.HAND_SERIALISED, 18, 2048, 0),
      new Variant("OTLP/gRPC, OkHttp sender (Junction's)", Way.OTLP_GRPC, 18, 2048, 0),
      new Variant("OTLP/HTTP protobuf, OkHttp sender", Way.OTLP_HTTP_OKHTTP, 18, 2048, 0),
      new Variant("OTLP/HTTP protobuf, JDK HttpClient sender", Way.OTLP_HTTP_JDK, 18, 2048, 0),
      new Variant("OTLP/gRPC, 9 attributes", Way.OTLP_GRPC, 9, 2048, 0),
      new Variant("OTLP/gRPC, 20 attributes (+ batch ids)", Way.OTLP_GRPC, 20, 2048, 0),
      new Variant("OTLP/gRPC, attribute length limit 4096", Way.OTLP_GRPC, 18, 2048, 4096),
      new Variant("OTLP/gRPC, export batches of 512", Way.OTLP_GRPC, 18, 512, 0));

  private SpanCostBenchmark() {}

  public static void main(String[] args) throws Exception {
    int repeats = args.length > 0 ? Integer.parseInt(args[0]) : 3;
    long seconds = args.length > 1 ? Long.parseLong(args[1]) : 6;
    // The exporter's code runs once per export batch, a few times a second: the JIT takes 15-20 s to compile
    // it, and until then its compilations cost as much CPU as the sending itself.
    long warmup = args.length > 2 ? Long.parseLong(args[2]) : 20;
    // Optional: the ways to run, by their number in VARIANTS (1-based, e.g. "1,3,4"); the no-op loop always runs.
    List<Variant> variants = new ArrayList<>(List.of(VARIANTS.get(0)));
    for (int v = 1; v < VARIANTS.size(); v++) {
      if (args.length <= 3 || Arrays.asList(args[3].split(",")).contains(Integer.toString(v + 1))) {
        variants.add(VARIANTS.get(v));
      }
    }
    String serverCores = System.getProperty("server.cores");
    List<String> pin = serverCores == null ? List.of() : List.of("taskset", "-c", serverCores);
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String classPath = System.getProperty("java.class.path");
    System.out.printf("SpanCostBenchmark: %d repeats, %d s measured after %d s of warm-up, %,d spans/s; probes %s, "
        + "receivers on the driver's core(s)%n", repeats, seconds, warmup, RATE,
        pin.isEmpty() ? "not pinned" : "pinned to core(s) " + serverCores);
    double[][] cpu = new double[variants.size()][repeats];
    double[][] jvm = new double[variants.size()][repeats];
    long[] bytes = new long[variants.size()];
    ExecutorService httpThreads = Executors.newFixedThreadPool(2, r -> new Thread(r, "otlp-http-receiver"));
    HttpServer http = httpReceiver(httpThreads);
    try (OtlpReceiver grpc = new OtlpReceiver(0, false)) {
      String httpEndpoint = "http://127.0.0.1:" + http.getAddress().getPort() + "/v1/traces";
      for (int r = 0; r < repeats; r++) {
        for (int v = 0; v < variants.size(); v++) {
          Variant variant = variants.get(v);
          String[] result = Probes.run(SpanCostProbe.command(java, classPath, pin, variant.way(), variant.attributes(),
              variant.exportBatch(), warmup, seconds, RATE, grpc.endpoint(), httpEndpoint, variant.lengthLimit()));
          cpu[v][r] = Double.parseDouble(result[1]);
          jvm[v][r] = cpu[v][r] - Double.parseDouble(result[5]);
          bytes[v] = Long.parseLong(result[2]);
          long made = Long.parseLong(result[3]);
          long exported = Long.parseLong(result[4]);
          String dropped = exported == made ? ""
              : String.format(" | %d of %d spans dropped by the full queue (warm-up included)", made - exported, made);
          System.out.printf("rep %d | %-45s | %6.2f µs/span (JIT, GC: %.2f) | %5d B/span%s%n", r + 1, variant.label(),
              cpu[v][r], jvm[v][r], bytes[v], dropped);
        }
      }
    } finally {
      http.stop(0);
      httpThreads.shutdownNow();
    }
    System.out.printf("%n| way | CPU µs/span, median (lowest) | over the loop alone, median | of which JIT, GC, median "
        + "| heap B/span |%n|---|---|---|---|---|%n");
    double loop = Probes.median(cpu[0]);
    for (int v = 0; v < variants.size(); v++) {
      System.out.printf("| %s | %.2f (%.2f) | %s | %.2f | %d |%n", variants.get(v).label(), Probes.median(cpu[v]),
          Arrays.stream(cpu[v]).min().orElseThrow(), v == 0 ? "" : String.format("%.2f", Probes.median(cpu[v]) - loop),
          Probes.median(jvm[v]), bytes[v]);
    }
  }

  /** An OTLP/HTTP receiver that reads and discards each export and answers 200 with an empty response. */
  private static HttpServer httpReceiver(ExecutorService threads) throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
    server.createContext("/v1/traces", exchange -> {
      try (InputStream body = exchange.getRequestBody()) {
        body.transferTo(OutputStream.nullOutputStream());
      }
      exchange.getResponseHeaders().add("Content-Type", "application/x-protobuf");
      exchange.sendResponseHeaders(200, -1);
      exchange.close();
    });
    server.setExecutor(threads);
    server.start();
    return server;
  }
}
