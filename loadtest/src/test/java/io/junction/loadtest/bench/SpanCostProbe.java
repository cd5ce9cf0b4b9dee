package io.junction.loadtest.bench;

import static io.junction.server.telemetry.SpanNames.PEER_ADDRESS;
import static io.junction.server.telemetry.SpanNames.PEER_PORT;
import static io.junction.server.telemetry.SpanNames.RPC_METHOD;
import static io.junction.server.telemetry.SpanNames.RPC_SERVICE;
import static io.junction.server.telemetry.SpanNames.RPC_STATUS;
import static io.junction.server.telemetry.SpanNames.RPC_SYSTEM;
import static io.junction.server.telemetry.SpanNames.SERVER_ADDRESS;
import static io.junction.server.telemetry.SpanNames.SERVER_PORT;

import com.sun.management.OperatingSystemMXBean;
import com.sun.management.ThreadMXBean;
import io.junction.server.telemetry.SpanNames;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.common.ComponentLoader;
import io.opentelemetry.context.Context;
import io.opentelemetry.exporter.internal.otlp.traces.TraceRequestMarshaler;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.exporter.otlp.trace.OtlpGrpcSpanExporter;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.common.export.GrpcResponse;
import io.opentelemetry.sdk.common.export.GrpcSender;
import io.opentelemetry.sdk.common.export.GrpcSenderProvider;
import io.opentelemetry.sdk.common.export.GrpcStatusCode;
import io.opentelemetry.sdk.common.export.HttpSenderProvider;
import io.opentelemetry.sdk.common.export.MessageWriter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.SpanLimits;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.ServiceLoader;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * One point of {@link SpanCostBenchmark}, in its own JVM pinned to the server's core: makes spans shaped
 * like Junction's request span at a fixed rate, through one way of exporting them, and prints what they cost
 * this process per span — CPU time (every thread: the caller, the span processor, the sender) and heap
 * allocated — measured after a warm-up.
 *
 * <p>{@code SpanCostProbe <way> <attributes> <export batch> <warm-up seconds>+<seconds> <spans/s> <grpc endpoint> <http endpoint>
 * <attribute length limit, 0 for none>}; prints {@code result <cpu µs/span> <bytes/span> <spans made>
 * <spans exported> <of the CPU, µs/span on Java threads>}.
 */
public final class SpanCostProbe {
  /** Ways of handling the spans, cheapest first. */
  enum Way {
    /** The API's no-op tracer: what the loop itself costs. */
    NOOP,
    /** The SDK makes and ends the spans, the batch processor queues them, an exporter drops them unread. */
    MADE,
    /** As the OTLP/gRPC exporter, with a sender that serialises each export and writes the bytes nowhere. */
    SERIALISED,
    /** Serialised to the same OTLP bytes by {@link HandWrittenOtlp} instead of the SDK's marshaler, not sent. */
    HAND_SERIALISED,
    /** OTLP/gRPC with the SDK's default sender (OkHttp). */
    OTLP_GRPC,
    /** OTLP/HTTP (protobuf) with the OkHttp sender. */
    OTLP_HTTP_OKHTTP,
    /** OTLP/HTTP (protobuf) with the JDK's HttpClient sender. */
    OTLP_HTTP_JDK
  }


  private SpanCostProbe() {}

  public static void main(String[] args) throws Exception {
    Way way = Way.valueOf(args[0]);
    int attributes = Integer.parseInt(args[1]);
    int exportBatch = Integer.parseInt(args[2]);
    long warmupSeconds = Long.parseLong(args[3].split("\\+")[0]);
    long seconds = Long.parseLong(args[3].split("\\+")[1]);
    int rate = Integer.parseInt(args[4]);
    String grpcEndpoint = args[5];
    String httpEndpoint = args[6];
    int lengthLimit = Integer.parseInt(args[7]);

    AtomicLong exported = new AtomicLong();
    OpenTelemetrySdk sdk = null;
    Tracer tracer;
    if (way == Way.NOOP) {
      tracer = OpenTelemetry.noop().getTracer("probe");
    } else {
      SpanLimits limits = lengthLimit > 0
          ? SpanLimits.builder().setMaxAttributeValueLength(lengthLimit).build() : SpanLimits.getDefault();
      sdk = OpenTelemetrySdk.builder().setTracerProvider(SdkTracerProvider.builder().setSpanLimits(limits)
          .addSpanProcessor(BatchSpanProcessor.builder(new Counting(exporter(way, grpcEndpoint, httpEndpoint),
              exported)).setMaxQueueSize(8192).setMaxExportBatchSize(exportBatch).build()).build()).build();
      tracer = sdk.getTracer("io.junction.server");
    }
    long made = 0;
    double cpuMicros = 0;
    double javaThreadsMicros = 0;
    long bytes = 0;
    for (int phase = 0; phase < 2; phase++) { // warm-up, then measured
      long cpu0 = processCpuNanos();
      long threads0 = javaThreadsCpuNanos();
      long allocated0 = allocatedBytes();
      long n = loop(tracer, attributes, rate, phase == 0 ? warmupSeconds : seconds);
      cpuMicros = (processCpuNanos() - cpu0) / 1000.0 / n;
      javaThreadsMicros = (javaThreadsCpuNanos() - threads0) / 1000.0 / n;
      bytes = (allocatedBytes() - allocated0) / n;
      made += n;
    }
    if (sdk != null) {
      sdk.getSdkTracerProvider().forceFlush().join(30, TimeUnit.SECONDS);
      sdk.shutdown().join(30, TimeUnit.SECONDS);
    }
    System.out.printf("result %.2f %d %d %d %.2f%n", cpuMicros, bytes, made,
        way == Way.NOOP ? made : exported.get(), javaThreadsMicros);
  }

  /** Makes spans at {@code rate} per second for {@code seconds}, in bursts of 16; returns how many. */
  private static long loop(Tracer tracer, int attributes, int rate, long seconds) {
    long start = System.nanoTime();
    long end = start + TimeUnit.SECONDS.toNanos(seconds);
    long n = 0;
    while (true) {
      long now = System.nanoTime();
      if (now >= end) {
        return n;
      }
      long due = start + n * 1_000_000_000L / rate;
      if (now < due) {
        LockSupport.parkNanos(due - now);
        continue;
      }
      for (int k = 0; k < 16; k++, n++) {
        span(tracer, attributes, n);
      }
    }
  }

  /**
   * A span with the attributes of a ModelInfer request span of the demo {@code mlp}, unbatched (18), and the
   * two batch ids when {@code attributes} is 20; 9 keeps the first nine.
   */
  private static void span(Tracer tracer, int attributes, long n) {
    Span span = tracer.spanBuilder("inference.GRPCInferenceService/ModelInfer").setSpanKind(SpanKind.SERVER)
        .setParent(Context.root()).startSpan();
    if (span.isRecording()) {
      span.setAttribute(RPC_SYSTEM, "grpc");
      span.setAttribute(RPC_SERVICE, "inference.GRPCInferenceService");
      span.setAttribute(RPC_METHOD, "ModelInfer");
      span.setAttribute(PEER_ADDRESS, "127.0.0.1");
      span.setAttribute(PEER_PORT, 40_000L + (n & 1023));
      span.setAttribute(SpanNames.MODEL_NAME, "mlp");
      span.setAttribute(SpanNames.MODEL_VERSION, "2");
      span.setAttribute(SpanNames.QUEUE_US, 100L + (n & 127));
      span.setAttribute(SpanNames.COMPUTE_INFER_US, 20L + (n & 15));
      if (attributes >= 18) {
        span.setAttribute(SERVER_ADDRESS, "127.0.0.1");
        span.setAttribute(SERVER_PORT, 8001L);
        span.setAttribute(SpanNames.INPUT_SHAPES, "x[1,8]");
        span.setAttribute(SpanNames.INPUT_BYTES, 32L);
        span.setAttribute(SpanNames.ROWS, 1L);
        span.setAttribute(SpanNames.BATCH_SIZE, 1L);
        span.setAttribute(SpanNames.COMPUTE_INPUT_US, 2L);
        span.setAttribute(SpanNames.COMPUTE_OUTPUT_US, 3L);
        span.setAttribute(RPC_STATUS, 0L);
      }
      if (attributes >= 20) {
        span.setAttribute(SpanNames.BATCH_TRACE_ID, "4bf92f3577b34da6a3ce929d0e0e4736");
        span.setAttribute(SpanNames.BATCH_SPAN_ID, "00f067aa0ba902b7");
      }
    }
    span.end();
  }

  private static SpanExporter exporter(Way way, String grpcEndpoint, String httpEndpoint) {
    switch (way) {
      case MADE:
        return new Counting(null, new AtomicLong());
      case SERIALISED:
        return OtlpGrpcSpanExporter.builder().setEndpoint(grpcEndpoint)
            .setComponentLoader(only(GrpcSenderProvider.class, config -> new SerialisingSender())).build();
      case HAND_SERIALISED:
        return new HandSerialising();
      case OTLP_GRPC:
        return OtlpGrpcSpanExporter.builder().setEndpoint(grpcEndpoint).build();
      case OTLP_HTTP_OKHTTP:
        return OtlpHttpSpanExporter.builder().setEndpoint(httpEndpoint)
            .setComponentLoader(only(HttpSenderProvider.class, sender("OkHttp"))).build();
      case OTLP_HTTP_JDK:
        return OtlpHttpSpanExporter.builder().setEndpoint(httpEndpoint)
            .setComponentLoader(only(HttpSenderProvider.class, sender("Jdk"))).build();
      default:
        throw new IllegalArgumentException(way.name());
    }
  }

  /** The HTTP sender on the class path whose class name starts with {@code prefix}. */
  private static HttpSenderProvider sender(String prefix) {
    for (HttpSenderProvider p : ServiceLoader.load(HttpSenderProvider.class)) {
      if (p.getClass().getSimpleName().startsWith(prefix)) {
        return p;
      }
    }
    throw new IllegalStateException("no " + prefix + " HTTP sender on the class path");
  }

  /** Loads {@code provider} as the only implementation of {@code type}, and the class path's for the rest. */
  private static <P> ComponentLoader only(Class<P> type, P provider) {
    ComponentLoader classPath = ComponentLoader.forClassLoader(SpanCostProbe.class.getClassLoader());
    return new ComponentLoader() {
      @Override
      public <T> Iterable<T> load(Class<T> wanted) {
        return wanted == type ? List.of(wanted.cast(provider)) : classPath.load(wanted);
      }
    };
  }

  private static long processCpuNanos() {
    return ((OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
  }

  /**
   * CPU time of the Java threads alive now; what the process spent beyond it went to the JVM's own threads
   * (JIT compilers, GC) or to threads that ended.
   */
  private static long javaThreadsCpuNanos() {
    ThreadMXBean threads = (ThreadMXBean) ManagementFactory.getThreadMXBean();
    long sum = 0;
    for (long id : threads.getAllThreadIds()) {
      sum += Math.max(threads.getThreadCpuTime(id), 0);
    }
    return sum;
  }

  /** Heap allocated so far by the threads alive now (the caller, the span processor, the sender's). */
  private static long allocatedBytes() {
    ThreadMXBean threads = (ThreadMXBean) ManagementFactory.getThreadMXBean();
    long sum = 0;
    for (long b : threads.getThreadAllocatedBytes(threads.getAllThreadIds())) {
      sum += Math.max(b, 0);
    }
    return sum;
  }

  /** Counts the spans handed to the exporter (the batch processor drops spans before that when full). */
  private static final class Counting implements SpanExporter {
    private final SpanExporter delegate;
    private final AtomicLong count;

    Counting(SpanExporter delegate, AtomicLong count) {
      this.delegate = delegate;
      this.count = count;
    }

    @Override
    public CompletableResultCode export(Collection<SpanData> spans) {
      count.addAndGet(spans.size());
      return delegate == null ? CompletableResultCode.ofSuccess() : delegate.export(spans);
    }

    @Override
    public CompletableResultCode flush() {
      return delegate == null ? CompletableResultCode.ofSuccess() : delegate.flush();
    }

    @Override
    public CompletableResultCode shutdown() {
      return delegate == null ? CompletableResultCode.ofSuccess() : delegate.shutdown();
    }
  }

  /**
   * Writes each export with {@link HandWrittenOtlp} and keeps nothing; the first export is also written by the SDK's
   * marshaler, and the probe stops unless both parse to the same request.
   */
  private static final class HandSerialising implements SpanExporter {
    private final HandWrittenOtlp writer = new HandWrittenOtlp();
    private boolean checked;

    @Override
    public CompletableResultCode export(Collection<SpanData> spans) {
      int length = writer.write(spans);
      if (!checked) {
        checked = true;
        try {
          ByteArrayOutputStream sdk = new ByteArrayOutputStream();
          TraceRequestMarshaler.create(spans).writeBinaryTo(sdk);
          var expected = ExportTraceServiceRequest.parseFrom(sdk.toByteArray());
          var actual = ExportTraceServiceRequest.parseFrom(
              Arrays.copyOf(writer.bytes(), length));
          if (!expected.equals(actual)) {
            System.err.println("the hand-written OTLP differs from the SDK's:\n" + expected.getResourceSpans(0)
                .getScopeSpans(0).getSpans(0) + "\nagainst\n" + actual.getResourceSpans(0).getScopeSpans(0).getSpans(0));
            System.exit(2);
          }
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
      return CompletableResultCode.ofSuccess();
    }

    @Override
    public CompletableResultCode flush() {
      return CompletableResultCode.ofSuccess();
    }

    @Override
    public CompletableResultCode shutdown() {
      return CompletableResultCode.ofSuccess();
    }
  }

  /** Writes each export's protobuf to a stream that keeps nothing, then answers OK. */
  private static final class SerialisingSender implements GrpcSender {
    private static final GrpcResponse OK = new GrpcResponse() {
      @Override
      public GrpcStatusCode getStatusCode() {
        return GrpcStatusCode.OK;
      }

      @Override
      public String getStatusDescription() {
        return null;
      }

      @Override
      public byte[] getResponseMessage() {
        return new byte[0];
      }
    };

    @Override
    public void send(MessageWriter writer,
        Consumer<GrpcResponse> onResponse, Consumer<Throwable> onError) {
      try {
        writer.writeMessage(OutputStream.nullOutputStream());
      } catch (IOException | RuntimeException e) {
        onError.accept(e);
        return;
      }
      onResponse.accept(OK);
    }

    @Override
    public CompletableResultCode shutdown() {
      return CompletableResultCode.ofSuccess();
    }
  }

  static List<String> command(String java, String classPath, List<String> pin, Way way, int attributes,
      int exportBatch, long warmupSeconds, long seconds, int rate, String grpcEndpoint, String httpEndpoint,
      int lengthLimit) {
    List<String> command = new ArrayList<>(pin);
    command.addAll(List.of(java, "-Xms512m", "-Xmx512m", "-cp", classPath, SpanCostProbe.class.getName(),
        way.name(), Integer.toString(attributes), Integer.toString(exportBatch), warmupSeconds + "+" + seconds,
        Integer.toString(rate), grpcEndpoint, httpEndpoint, Integer.toString(lengthLimit)));
    return command;
  }
}
