package io.junction.loadtest;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall.SimpleForwardingClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanId;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceId;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapSetter;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Gives every call a new W3C trace context, as a traced client does: a {@code traceparent} header with a random
 * trace id and parent span id, marked sampled for a fraction of the calls, written by OpenTelemetry's W3C
 * propagator. A server whose sampler follows its callers' decisions (OpenTelemetry's {@code parentbased_*}
 * samplers) then traces exactly those calls, in the traces the header names.
 */
final class TraceContextInterceptor implements ClientInterceptor {
  private static final TextMapSetter<Metadata> SETTER =
      (headers, key, value) -> headers.put(Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER), value);

  private final double sampled;

  /** @param sampled the fraction of calls whose trace context is marked sampled, from 0 to 1 */
  TraceContextInterceptor(double sampled) {
    if (!(sampled >= 0 && sampled <= 1)) {
      throw new IllegalArgumentException("the sampled fraction must be from 0 to 1, not " + sampled);
    }
    this.sampled = sampled;
  }

  @Override
  public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
    return new SimpleForwardingClientCall<>(next.newCall(method, options)) {
      @Override
      public void start(Listener<R> listener, Metadata headers) {
        W3CTraceContextPropagator.getInstance().inject(newTrace(ThreadLocalRandom.current()), headers, SETTER);
        super.start(listener, headers);
      }
    };
  }

  /**
   * A context whose span is the remote parent of a new trace. Random ids are all zeros (the spec's invalid ids, which
   * the propagator would not write) once in 2^64 calls; such a call goes without a context.
   */
  private Context newTrace(ThreadLocalRandom random) {
    TraceFlags flags = random.nextDouble() < sampled ? TraceFlags.getSampled() : TraceFlags.getDefault();
    SpanContext parent = SpanContext.create(TraceId.fromLongs(random.nextLong(), random.nextLong()),
        SpanId.fromLong(random.nextLong()), flags, TraceState.getDefault());
    return Context.root().with(Span.wrap(parent));
  }
}
