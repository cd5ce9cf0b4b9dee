package io.junction.server.http;

import io.junction.server.errors.InferenceFailedException;
import io.junction.server.errors.InvalidInputException;
import io.junction.server.errors.JunctionException;
import io.junction.server.errors.ModelNotFoundException;
import io.junction.server.errors.ModelUnavailableException;
import io.junction.server.errors.QueueFullException;
import io.junction.server.errors.QueueTimeoutException;
import io.junction.server.errors.RepositoryApiDisabledException;
import io.junction.server.errors.RequestCancelledException;
import io.junction.server.errors.RequestTimeoutException;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where domain failures become HTTP statuses for the REST API, matching the gRPC
 * codes (INVALID_ARGUMENT 400, NOT_FOUND 404, UNAVAILABLE 503, RESOURCE_EXHAUSTED 429,
 * DEADLINE_EXCEEDED 504). Messages that echo client text are cut to 1 KiB, as over gRPC.
 */
final class HttpErrors {
  private static final Logger log = LoggerFactory.getLogger(HttpErrors.class);
  private static final int MAX_MESSAGE = 1024;
  /** nginx's "client closed request": the caller went away. */
  static final HttpResponseStatus CLIENT_CLOSED = new HttpResponseStatus(499, "Client Closed Request");

  record Failure(HttpResponseStatus status, String message) {}

  private HttpErrors() {}

  static Failure of(Throwable failure) {
    Throwable t = failure;
    while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
      t = t.getCause();
    }
    if (t instanceof JunctionException je) {
      return new Failure(status(je), bounded(je.getMessage()));
    }
    if (t instanceof RestApi.MethodNotAllowed m) {
      return new Failure(HttpResponseStatus.METHOD_NOT_ALLOWED, m.getMessage());
    }
    if (t instanceof CancellationException) {
      return new Failure(CLIENT_CLOSED, "the request was cancelled");
    }
    log.error("unexpected server fault", t);
    return new Failure(HttpResponseStatus.INTERNAL_SERVER_ERROR, "internal server error: " + t.getClass().getSimpleName());
  }

  static String bounded(String message) {
    if (message == null || message.length() <= MAX_MESSAGE) {
      return message;
    }
    return message.substring(0, MAX_MESSAGE) + "... (" + (message.length() - MAX_MESSAGE) + " more characters)";
  }

  private static HttpResponseStatus status(JunctionException e) {
    if (e instanceof InvalidInputException || e instanceof RepositoryApiDisabledException) {
      return HttpResponseStatus.BAD_REQUEST;
    }
    if (e instanceof ModelNotFoundException) {
      return HttpResponseStatus.NOT_FOUND;
    }
    if (e instanceof ModelUnavailableException || e instanceof QueueTimeoutException) {
      return HttpResponseStatus.SERVICE_UNAVAILABLE;
    }
    if (e instanceof QueueFullException) {
      return HttpResponseStatus.TOO_MANY_REQUESTS;
    }
    if (e instanceof RequestTimeoutException) {
      return HttpResponseStatus.GATEWAY_TIMEOUT;
    }
    if (e instanceof RequestCancelledException) {
      return CLIENT_CLOSED;
    }
    if (e instanceof InferenceFailedException) {
      return HttpResponseStatus.INTERNAL_SERVER_ERROR;
    }
    return HttpResponseStatus.INTERNAL_SERVER_ERROR;
  }
}
