package io.junction.testkit;

import com.google.protobuf.ByteString;
import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse;
import io.opentelemetry.proto.collector.logs.v1.LogsServiceGrpc;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.trace.v1.Span;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/** A minimal OTLP/gRPC collector on loopback: it keeps every span and log record it is sent. */
public final class OtlpReceiver implements AutoCloseable {
  public final List<Span> spans = new CopyOnWriteArrayList<>();
  public final List<String> serviceNames = new CopyOnWriteArrayList<>();
  public final List<LogRecord> logs = new CopyOnWriteArrayList<>();
  /** Spans received, also when they are not kept. */
  public final AtomicLong received = new AtomicLong();
  private final Server server;

  public OtlpReceiver() throws IOException {
    this(0, true);
  }

  /**
   * A receiver on a fixed loopback port (0 picks one).
   *
   * @param keep whether to keep the spans in {@link #spans}; a benchmark's receiver only counts them
   */
  public OtlpReceiver(int port, boolean keep) throws IOException {
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port))
        .addService(new TraceServiceGrpc.TraceServiceImplBase() {
          @Override
          public void export(ExportTraceServiceRequest request, StreamObserver<ExportTraceServiceResponse> out) {
            request.getResourceSpansList().forEach(rs -> rs.getScopeSpansList()
                .forEach(ss -> received.addAndGet(ss.getSpansCount())));
            if (!keep) {
              out.onNext(ExportTraceServiceResponse.getDefaultInstance());
              out.onCompleted();
              return;
            }
            request.getResourceSpansList().forEach(rs -> {
              rs.getResource().getAttributesList().stream().filter(kv -> kv.getKey().equals("service.name"))
                  .forEach(kv -> serviceNames.add(kv.getValue().getStringValue()));
              rs.getScopeSpansList().forEach(ss -> spans.addAll(ss.getSpansList()));
            });
            out.onNext(ExportTraceServiceResponse.getDefaultInstance());
            out.onCompleted();
          }
        })
        .addService(new LogsServiceGrpc.LogsServiceImplBase() {
          @Override
          public void export(ExportLogsServiceRequest request,
              StreamObserver<ExportLogsServiceResponse> out) {
            request.getResourceLogsList().forEach(rl -> rl.getScopeLogsList().forEach(sl -> logs.addAll(sl.getLogRecordsList())));
            out.onNext(ExportLogsServiceResponse.getDefaultInstance());
            out.onCompleted();
          }
        }).build().start();
  }

  /** Where to point an OTLP/gRPC exporter. */
  public String endpoint() {
    return "http://127.0.0.1:" + server.getPort();
  }

  public static String hex(ByteString id) {
    return HexFormat.of().formatHex(id.toByteArray());
  }

  public static Optional<String> attribute(Span span, String key) {
    return span.getAttributesList().stream().filter(kv -> kv.getKey().equals(key)).findFirst().map(OtlpReceiver::value);
  }

  private static String value(KeyValue kv) {
    var v = kv.getValue();
    return switch (v.getValueCase()) {
      case STRING_VALUE -> v.getStringValue();
      case INT_VALUE -> Long.toString(v.getIntValue());
      case BOOL_VALUE -> Boolean.toString(v.getBoolValue());
      case DOUBLE_VALUE -> Double.toString(v.getDoubleValue());
      default -> v.toString();
    };
  }

  /**
   * Runs a receiver in its own process (for benchmarks that must not pay the collector's CPU in the
   * server's JVM): {@code OtlpReceiver <port>}; prints the span count every 5 s, discards the spans.
   */
  public static void main(String[] args) throws Exception {
    try (OtlpReceiver receiver = new OtlpReceiver(Integer.parseInt(args[0]), false)) {
      while (true) {
        Thread.sleep(5000);
        System.out.println("spans received: " + receiver.received.get());
      }
    }
  }

  @Override
  public void close() throws InterruptedException {
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }
}
