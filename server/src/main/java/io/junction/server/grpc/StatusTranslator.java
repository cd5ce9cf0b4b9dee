package io.junction.server.grpc;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.junction.server.errors.JunctionException;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where domain failures become gRPC statuses. Descriptions echo what clients sent
 * (model and tensor names, ids), so they are cut to {@link #MAX_DESCRIPTION} characters: a client
 * cannot make the server send back, or log, more than that per call.
 */
final class StatusTranslator {
  private static final Logger log = LoggerFactory.getLogger(StatusTranslator.class);
  /** Longest status description sent; a real message names its model, tensor and values well within it. */
  static final int MAX_DESCRIPTION = 1024;

  private StatusTranslator() {}

  static StatusRuntimeException toStatus(Throwable failure) {
    Throwable t = unwrap(failure);
    if (t instanceof StatusRuntimeException sre) {
      return sre;
    }
    if (t instanceof JunctionException je) {
      return codeFor(je).withDescription(bounded(je.getMessage())).asRuntimeException();
    }
    if (t instanceof CancellationException) {
      // The caller went away (or the server dropped the request on its behalf): normal, not a fault.
      return Status.CANCELLED.withDescription("the request was cancelled").asRuntimeException();
    }
    // Anything else is a bug of ours: the caller gets a generic message, the log gets the detail.
    log.error("unexpected server fault", t);
    return Status.INTERNAL.withDescription("internal server error: " + t.getClass().getSimpleName())
        .asRuntimeException();
  }

  static String bounded(String description) {
    if (description == null || description.length() <= MAX_DESCRIPTION) {
      return description;
    }
    return description.substring(0, MAX_DESCRIPTION) + "... (" + (description.length() - MAX_DESCRIPTION)
        + " more characters)";
  }

  private static Status codeFor(JunctionException e) {
    return switch (e.kind()) {
      case INVALID_ARGUMENT -> Status.INVALID_ARGUMENT;
      case NOT_FOUND -> Status.NOT_FOUND;
      case UNAVAILABLE -> Status.UNAVAILABLE;
      case RESOURCE_EXHAUSTED -> Status.RESOURCE_EXHAUSTED;
      case DEADLINE_EXCEEDED -> Status.DEADLINE_EXCEEDED;
      case CANCELLED -> Status.CANCELLED;
      case FAILED_PRECONDITION -> Status.FAILED_PRECONDITION;
      case INTERNAL -> Status.INTERNAL;
    };
  }

  private static Throwable unwrap(Throwable t) {
    while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }
}
