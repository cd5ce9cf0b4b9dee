package io.junction.server.grpc;

import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Metadata;
import io.junction.server.inference.RequestContext;
import io.junction.server.scheduling.InferenceRequest;
import java.util.concurrent.TimeUnit;

/** What the pipeline needs from a gRPC call's metadata and context, read without copying them. */
final class RequestMetadata {
  /** Response header (and, for failures, trailer) naming the route that served a call. */
  static final Metadata.Key<String> ROUTE = Metadata.Key.of("x-junction-route", Metadata.ASCII_STRING_MARSHALLER);
  /** Response header (and, for failures, trailer) naming the variant that served a call. */
  static final Metadata.Key<String> VARIANT = Metadata.Key.of("x-junction-variant", Metadata.ASCII_STRING_MARSHALLER);

  private RequestMetadata() {}

  /** ASCII metadata by name; binary ({@code -bin}) entries are not routing input. */
  static RequestContext.Headers headers(Metadata metadata) {
    return name -> name.endsWith(Metadata.BINARY_HEADER_SUFFIX) ? null
        : metadata.get(Metadata.Key.of(name, Metadata.ASCII_STRING_MARSHALLER));
  }

  static long deadlineNanos(Context context) {
    Deadline deadline = context.getDeadline();
    if (deadline == null) {
      return InferenceRequest.NO_DEADLINE;
    }
    return System.nanoTime() + deadline.timeRemaining(TimeUnit.NANOSECONDS);
  }
}
