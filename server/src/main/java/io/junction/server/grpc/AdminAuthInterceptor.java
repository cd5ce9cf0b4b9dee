package io.junction.server.grpc;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/** Lets through only calls that carry {@code authorization: Bearer <admin token>}. */
final class AdminAuthInterceptor implements ServerInterceptor {
  private static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private final byte[] expected;

  AdminAuthInterceptor(String token) {
    this.expected = ("Bearer " + token).getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    String presented = headers.get(AUTHORIZATION);
    // Constant-time comparison: the time taken must not tell how much of a guess was right.
    if (presented == null || !MessageDigest.isEqual(expected, presented.getBytes(StandardCharsets.UTF_8))) {
      call.close(Status.UNAUTHENTICATED.withDescription("the admin service needs 'authorization: Bearer <token>'"),
          new Metadata());
      return new ServerCall.Listener<>() { };
    }
    return next.startCall(call, headers);
  }
}
