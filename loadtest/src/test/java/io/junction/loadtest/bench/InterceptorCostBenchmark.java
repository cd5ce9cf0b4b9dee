package io.junction.loadtest.bench;

import io.grpc.Attributes;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.Status;
import io.junction.server.grpc.TracingServerInterceptor;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * What Junction's tracing interceptor costs the thread that runs a call, hot: one thread drives
 * {@link TracingServerInterceptor} through a unary call's life (start, ready, message, half-close, headers,
 * message, close, complete) against a stand-in call that does nothing, and reads its own CPU time per call.
 * Modes, each in its own JVM (so that no mode's profile shapes another's compiled code), interleaved per
 * repetition: tracing off (the no-op OpenTelemetry), 1 % sampling and 100 % sampling, both with the SDK's batch
 * span processor over an exporter that drops what it is given (what making, not exporting, a span costs).
 *
 * <p>This resolves differences of ~10 ns where a server's CPU per call on the development VM resolves 1-2 µs
 * (BENCHMARKS.md). It is the cost with warm caches and nothing else running: a server pays several times more
 * for the same code between the other work of a call. Run with {@code loadtest/bench/interceptor-cost.sh
 * [repeats] [seconds measured per mode]}.
 */
public final class InterceptorCostBenchmark {
  private static final List<String> MODES = List.of("off", "1%", "100%");

  private InterceptorCostBenchmark() {}

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("probe")) {
      probe(args[1], Long.parseLong(args[2]));
      return;
    }
    int repeats = args.length > 0 ? Integer.parseInt(args[0]) : 3;
    long seconds = args.length > 1 ? Long.parseLong(args[1]) : 6;
    String serverCores = System.getProperty("server.cores");
    List<String> pin = serverCores == null ? List.of() : List.of("taskset", "-c", serverCores);
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    System.out.printf("InterceptorCostBenchmark: %d repeats, %d s measured per mode after as long of warm-up; probes %s%n",
        repeats, seconds, pin.isEmpty() ? "not pinned" : "pinned to core(s) " + serverCores);
    double[][] nanos = new double[MODES.size()][repeats];
    for (int r = 0; r < repeats; r++) {
      for (int m = 0; m < MODES.size(); m++) {
        List<String> command = new ArrayList<>(pin);
        command.addAll(List.of(java, "-Xms256m", "-Xmx256m", "-cp", System.getProperty("java.class.path"),
            InterceptorCostBenchmark.class.getName(), "probe", MODES.get(m), Long.toString(seconds)));
        nanos[m][r] = Double.parseDouble(Probes.run(command)[1]);
        System.out.printf("rep %d | %-4s | %5.0f ns/call%n", r + 1, MODES.get(m), nanos[m][r]);
      }
    }
    System.out.printf("%n| mode | ns/call, median (lowest) | over tracing off, median |%n|---|---|---|%n");
    double off = Probes.median(nanos[0]);
    for (int m = 0; m < MODES.size(); m++) {
      System.out.printf("| %s | %.0f (%.0f) | %s |%n", MODES.get(m), Probes.median(nanos[m]),
          Arrays.stream(nanos[m]).min().orElseThrow(), m == 0 ? "" : String.format("%+.0f", Probes.median(nanos[m]) - off));
    }
  }

  /** Runs one mode: warm-up, then the measured seconds; prints {@code result <ns per call>}. */
  private static void probe(String mode, long seconds) {
    OpenTelemetry otel = mode.equals("off") ? OpenTelemetry.noop() : OpenTelemetrySdk.builder()
        .setTracerProvider(SdkTracerProvider.builder()
            .setSampler(Sampler.parentBased(Sampler.traceIdRatioBased(mode.equals("1%") ? 0.01 : 1.0)))
            // An exporter of no exporters: drops what it is given.
            .addSpanProcessor(BatchSpanProcessor.builder(SpanExporter.composite())
                .setMaxQueueSize(8192).setMaxExportBatchSize(2048).build()).build())
        .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance())).build();
    TracingServerInterceptor interceptor = new TracingServerInterceptor(otel.getTracer("bench"),
        otel.getPropagators().getTextMapPropagator(), UnaryOperator.identity());
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    drive(interceptor, seconds * 1_000_000_000L); // warm-up: the JIT compiles the path
    long cpu = threads.getCurrentThreadCpuTime();
    long calls = drive(interceptor, seconds * 1_000_000_000L);
    cpu = threads.getCurrentThreadCpuTime() - cpu;
    System.out.printf("result %.1f%n", (double) cpu / calls);
    System.exit(0); // the SDK's worker thread is not a daemon
  }

  private static final Metadata.Key<String> USER_AGENT = Metadata.Key.of("user-agent", Metadata.ASCII_STRING_MARSHALLER);
  private static final Metadata.Key<String> ACCEPT_ENCODING =
      Metadata.Key.of("grpc-accept-encoding", Metadata.ASCII_STRING_MARSHALLER);
  static volatile Object sink;

  /** Unary calls through the interceptor for {@code nanos}; the number of calls made. */
  private static long drive(TracingServerInterceptor interceptor, long nanos) {
    long calls = 0;
    long end = System.nanoTime() + nanos;
    while (System.nanoTime() < end) {
      for (int i = 0; i < 1000; i++) {
        Metadata headers = new Metadata();
        headers.put(USER_AGENT, "grpc-java-netty/1.85.1");
        headers.put(ACCEPT_ENCODING, "gzip");
        StandInCall call = new StandInCall();
        ServerCall.Listener<String> listener = interceptor.interceptCall(call, headers, HANDLER);
        listener.onReady();
        listener.onMessage("request");
        listener.onHalfClose();
        call.sendHeaders(new Metadata());
        call.sendMessage("response");
        call.close(Status.OK, new Metadata());
        listener.onComplete();
      }
      calls += 1000;
    }
    return calls;
  }

  /** Reads the call's span where Junction's handler does, in the half-close. */
  private static final ServerCallHandler<String, String> HANDLER = (call, headers) -> new ServerCall.Listener<>() {
    @Override
    public void onHalfClose() {
      sink = Span.current();
    }
  };

  private static final MethodDescriptor<String, String> METHOD = MethodDescriptor.<String, String>newBuilder()
      .setType(MethodDescriptor.MethodType.UNARY).setFullMethodName("inference.GRPCInferenceService/ModelInfer")
      .setRequestMarshaller(new Utf8()).setResponseMarshaller(new Utf8()).build();
  private static final Attributes TRANSPORT = Attributes.newBuilder()
      .set(Grpc.TRANSPORT_ATTR_REMOTE_ADDR, new InetSocketAddress("127.0.0.1", 50123))
      .set(Grpc.TRANSPORT_ATTR_LOCAL_ADDR, new InetSocketAddress("127.0.0.1", 8001)).build();

  private static final class Utf8 implements MethodDescriptor.Marshaller<String> {
    @Override
    public InputStream stream(String value) {
      return new ByteArrayInputStream(value.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public String parse(InputStream stream) {
      return "";
    }
  }

  private static final class StandInCall extends ServerCall<String, String> {
    @Override
    public void request(int numMessages) {}

    @Override
    public void sendHeaders(Metadata headers) {
      sink = headers;
    }

    @Override
    public void sendMessage(String message) {}

    @Override
    public void close(Status status, Metadata trailers) {
      sink = trailers;
    }

    @Override
    public boolean isCancelled() {
      return false;
    }

    @Override
    public MethodDescriptor<String, String> getMethodDescriptor() {
      return METHOD;
    }

    @Override
    public Attributes getAttributes() {
      return TRANSPORT;
    }
  }
}
