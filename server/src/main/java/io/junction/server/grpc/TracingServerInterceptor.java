package io.junction.server.grpc;

import static io.junction.server.telemetry.SpanNames.ERROR_TYPE;
import static io.junction.server.telemetry.SpanNames.PEER_ADDRESS;
import static io.junction.server.telemetry.SpanNames.PEER_PORT;
import static io.junction.server.telemetry.SpanNames.RPC_METHOD;
import static io.junction.server.telemetry.SpanNames.RPC_SERVICE;
import static io.junction.server.telemetry.SpanNames.RPC_STATUS;
import static io.junction.server.telemetry.SpanNames.RPC_SYSTEM;
import static io.junction.server.telemetry.SpanNames.SERVER_ADDRESS;
import static io.junction.server.telemetry.SpanNames.SERVER_PORT;

import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.junction.server.telemetry.Telemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Collection;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * One SERVER span per RPC, following OpenTelemetry's gRPC conventions, continuing the caller's trace
 * when its metadata carries W3C {@code traceparent}/{@code tracestate} (and baggage). The span is the
 * current context while the handler starts the call and while it takes a message, a half-close or a
 * cancellation (the callbacks in which handlers do a call's work and log about it), and its trace id is
 * returned to the caller in the {@code x-trace-id} header (or trailer).
 *
 * <p>Log lines name the call through the current context: logback.xml's {@code TRACE_CONTEXT} appender adds
 * {@code trace_id} and {@code span_id} to an event's MDC when it is written, so a call that logs nothing
 * pays nothing for them (putting them in the MDC around each callback cost every call ~0.13 µs, most of
 * what an unsampled call paid for tracing).
 */
public final class TracingServerInterceptor implements ServerInterceptor {
  public static final Metadata.Key<String> TRACE_ID =
      Metadata.Key.of("x-trace-id", Metadata.ASCII_STRING_MARSHALLER);

  /**
   * The codes that mark a server span as an error (OpenTelemetry's gRPC conventions); the others
   * (INVALID_ARGUMENT, NOT_FOUND, CANCELLED, RESOURCE_EXHAUSTED ...) are the caller's, and leave it unset.
   */
  static final Set<Status.Code> SERVER_ERRORS = EnumSet.of(Status.Code.UNKNOWN,
      Status.Code.DEADLINE_EXCEEDED, Status.Code.UNIMPLEMENTED, Status.Code.INTERNAL, Status.Code.UNAVAILABLE,
      Status.Code.DATA_LOSS);

  private final Tracer tracer;
  private final TextMapPropagator propagator;
  private final UnaryOperator<Span> requestSpans;
  private final TextMapGetter<Metadata> getter;

  /** @param requestSpans what a call's span is kept as ({@link Telemetry#requestSpans}) */
  public TracingServerInterceptor(Tracer tracer, TextMapPropagator propagator, UnaryOperator<Span> requestSpans) {
    this.tracer = tracer;
    this.propagator = propagator;
    this.requestSpans = requestSpans;
    this.getter = new MetadataGetter(propagator.fields());
  }

  /**
   * Reads the propagator's headers from a call's metadata. The keys of the headers the propagator names are
   * made once: a key checks and encodes its name when made, and every call looks up each field.
   */
  private static final class MetadataGetter implements TextMapGetter<Metadata> {
    private final Map<String, Metadata.Key<String>> known;

    MetadataGetter(Collection<String> fields) {
      Map<String, Metadata.Key<String>> keys = new HashMap<>();
      for (String field : fields) {
        if (!field.endsWith(Metadata.BINARY_HEADER_SUFFIX)) {
          keys.put(field, Metadata.Key.of(field, Metadata.ASCII_STRING_MARSHALLER));
        }
      }
      this.known = Map.copyOf(keys);
    }

    @Override
    public Iterable<String> keys(Metadata carrier) {
      return carrier.keys();
    }

    @Override
    public String get(Metadata carrier, String key) {
      if (key == null || key.endsWith(Metadata.BINARY_HEADER_SUFFIX)) {
        return null;
      }
      Metadata.Key<String> k = known.get(key);
      return carrier.get(k != null ? k : Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER));
    }
  }

  private static void setAddresses(Span span, ServerCall<?, ?> call) {
    SocketAddress remote = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
    if (remote instanceof InetSocketAddress inet) {
      span.setAttribute(PEER_ADDRESS, host(inet));
      span.setAttribute(PEER_PORT, (long) inet.getPort());
    }
    SocketAddress local = call.getAttributes().get(Grpc.TRANSPORT_ATTR_LOCAL_ADDR);
    if (local instanceof InetSocketAddress inet) {
      span.setAttribute(SERVER_ADDRESS, host(inet));
      span.setAttribute(SERVER_PORT, (long) inet.getPort());
    }
  }

  /** The address as text, without a reverse lookup. */
  private static String host(InetSocketAddress inet) {
    return inet.getAddress() == null ? inet.getHostString() : inet.getAddress().getHostAddress();
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    String fullName = call.getMethodDescriptor().getFullMethodName();
    String service = call.getMethodDescriptor().getServiceName();
    String method = call.getMethodDescriptor().getBareMethodName();
    Context parent = propagator.extract(Context.root(), headers, getter);
    Span span = requestSpans.apply(
        tracer.spanBuilder(fullName).setSpanKind(SpanKind.SERVER).setParent(parent).startSpan());
    if (span.isRecording()) {
      // Set after the sampling decision (the sampler is ratio- or parent-based and reads no attributes), so that
      // the calls that are not sampled do not pay for attributes nobody exports.
      span.setAttribute(RPC_SYSTEM, "grpc");
      span.setAttribute(RPC_SERVICE, service == null ? "" : service);
      span.setAttribute(RPC_METHOD, method == null ? "" : method);
      setAddresses(span, call);
    }
    Context context = parent.with(span);
    String traceId = span.getSpanContext().isValid() ? span.getSpanContext().getTraceId() : null;

    ServerCall<Q, R> traced = new SimpleForwardingServerCall<>(call) {
      /** Whether the headers carried the trace id; then the trailers need not (HPACK cannot index a new id). */
      private volatile boolean headersSent;

      @Override
      public void sendHeaders(Metadata responseHeaders) {
        if (traceId != null) {
          responseHeaders.put(TRACE_ID, traceId);
        }
        headersSent = true;
        super.sendHeaders(responseHeaders);
      }

      @Override
      public void close(Status status, Metadata trailers) {
        if (traceId != null && !headersSent && !trailers.containsKey(TRACE_ID)) {
          trailers.put(TRACE_ID, traceId); // a call that fails before answering: trailers only
        }
        span.setAttribute(RPC_STATUS, (long) status.getCode().value());
        if (SERVER_ERRORS.contains(status.getCode())) {
          span.setAttribute(ERROR_TYPE, status.getCode().name());
          span.setStatus(StatusCode.ERROR, status.getCode() + (status.getDescription() == null ? ""
              : ": " + status.getDescription()));
          if (status.getCode() == Status.Code.INTERNAL || status.getCode() == Status.Code.UNKNOWN) {
            span.recordException(status.asRuntimeException());
          }
        }
        try {
          super.close(status, trailers);
        } finally {
          span.end();
        }
      }
    };
    ServerCall.Listener<Q> delegate;
    try (Scope ignored = context.makeCurrent()) {
      delegate = next.startCall(traced, headers);
    }
    return new SimpleForwardingServerCallListener<>(delegate) {
      @Override
      public void onMessage(Q message) {
        try (Scope ignored = context.makeCurrent()) {
          super.onMessage(message);
        }
      }

      @Override
      public void onHalfClose() {
        try (Scope ignored = context.makeCurrent()) {
          super.onHalfClose();
        }
      }

      @Override
      public void onCancel() {
        span.setAttribute(RPC_STATUS, (long) Status.Code.CANCELLED.value()); // the client's doing: not an error
        try (Scope ignored = context.makeCurrent()) {
          super.onCancel();
        } finally {
          span.end();
        }
      }

      // onReady and onComplete pass straight through: Junction's handlers at most ask for more messages in
      // them, and making the context current costs every call each time.
    };
  }
}
