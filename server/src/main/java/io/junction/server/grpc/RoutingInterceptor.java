package io.junction.server.grpc;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Makes the call's metadata available to routing (as a plain map in the gRPC context) and sends the
 * variant that served the call back in the {@code x-junction-route} and {@code x-junction-variant}
 * response headers.
 */
final class RoutingInterceptor implements ServerInterceptor {
  static final Metadata.Key<String> ROUTE = Metadata.Key.of("x-junction-route", Metadata.ASCII_STRING_MARSHALLER);
  static final Metadata.Key<String> VARIANT = Metadata.Key.of("x-junction-variant", Metadata.ASCII_STRING_MARSHALLER);
  static final Context.Key<Map<String, String>> HEADERS = Context.key("junction-request-headers");
  /** Set by the handler when a route served the call: {route, variant}. */
  static final Context.Key<AtomicReference<String[]>> SERVED_BY = Context.key("junction-served-by");

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    Map<String, String> plain = new HashMap<>();
    for (String key : headers.keys()) {
      if (!key.endsWith(Metadata.BINARY_HEADER_SUFFIX)) {
        String value = headers.get(Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER));
        if (value != null) {
          plain.put(key.toLowerCase(Locale.ROOT), value);
        }
      }
    }
    AtomicReference<String[]> servedBy = new AtomicReference<>();
    ServerCall<Q, R> withVariant = new SimpleForwardingServerCall<>(call) {
      @Override
      public void sendHeaders(Metadata responseHeaders) {
        String[] served = servedBy.get();
        if (served != null) {
          responseHeaders.put(ROUTE, served[0]);
          responseHeaders.put(VARIANT, served[1]);
        }
        super.sendHeaders(responseHeaders);
      }
    };
    Context context = Context.current().withValues(HEADERS, Map.copyOf(plain), SERVED_BY, servedBy);
    return Contexts.interceptCall(context, withVariant, headers, next);
  }
}
