package io.junction.loadtest;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall.SimpleForwardingClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Gives every call a new W3C trace context, as a traced client does: a {@code traceparent} header with a random
 * trace id and parent span id, marked sampled for a fraction of the calls. A server whose sampler follows its
 * callers' decisions (OpenTelemetry's {@code parentbased_*} samplers) then traces exactly those calls, in the traces
 * the header names.
 */
final class TraceContextInterceptor implements ClientInterceptor {
  static final Metadata.Key<String> TRACEPARENT = Metadata.Key.of("traceparent", Metadata.ASCII_STRING_MARSHALLER);
  private static final char[] HEX = "0123456789abcdef".toCharArray();

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
        headers.put(TRACEPARENT, traceparent(ThreadLocalRandom.current()));
        super.start(listener, headers);
      }
    };
  }

  /** version 00, a trace id and a parent id that are not all zeros (the spec's invalid ids), and the flags. */
  String traceparent(ThreadLocalRandom random) {
    char[] text = "00-00000000000000000000000000000000-0000000000000000-00".toCharArray();
    long high;
    long low;
    do {
      high = random.nextLong();
      low = random.nextLong();
    } while (high == 0 && low == 0);
    long parent;
    do {
      parent = random.nextLong();
    } while (parent == 0);
    hex(high, text, 3);
    hex(low, text, 19);
    hex(parent, text, 36);
    if (random.nextDouble() < sampled) {
      text[text.length - 1] = '1';
    }
    return new String(text);
  }

  private static void hex(long value, char[] text, int at) {
    for (int i = 15; i >= 0; i--) {
      text[at + i] = HEX[(int) (value & 0xf)];
      value >>>= 4;
    }
  }
}
