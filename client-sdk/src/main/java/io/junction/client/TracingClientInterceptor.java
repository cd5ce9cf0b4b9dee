package io.junction.client;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall.SimpleForwardingClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.context.propagation.TextMapSetter;

/**
 * Puts the caller's current OpenTelemetry context (W3C {@code traceparent}, {@code tracestate},
 * baggage) into every call's metadata, so a microservice's trace continues into Junction.
 */
final class TracingClientInterceptor implements ClientInterceptor {
  private static final TextMapSetter<Metadata> SETTER =
      (carrier, key, value) -> carrier.put(Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER), value);

  private final TextMapPropagator propagator;

  TracingClientInterceptor(TextMapPropagator propagator) {
    this.propagator = propagator;
  }

  @Override
  public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
    Context current = Context.current();
    return new SimpleForwardingClientCall<>(next.newCall(method, options)) {
      @Override
      public void start(Listener<R> responseListener, Metadata headers) {
        propagator.inject(current, headers, SETTER);
        super.start(responseListener, headers);
      }
    };
  }
}
