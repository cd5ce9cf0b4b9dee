package io.junction.server.http;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.google.gson.stream.MalformedJsonException;
import io.junction.server.errors.JunctionException;
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

  /**
   * What a JSON parser found wrong with a client's body, for the client: where and what, without the advice Gson
   * gives its own programmers (switch to lenient parsing, a troubleshooting link), cut to size.
   */
  static String jsonProblem(Throwable parseFailure) {
    if (parseFailure instanceof JsonProcessingException jackson) {
      return bounded(jacksonProblem(jackson));
    }
    String message = String.valueOf(parseFailure.getMessage());
    int advice = message.indexOf("\nSee https://");
    if (advice >= 0) {
      message = message.substring(0, advice);
    }
    message = message.replace(MalformedJsonException.class.getName() + ": ", "")
        .replace("Use JsonReader.setStrictness(Strictness.LENIENT) to accept malformed JSON", "malformed JSON");
    return bounded(message);
  }

  /** jackson-core's own message, with the line, column and path of the value it stopped at; never the body itself. */
  private static String jacksonProblem(JsonProcessingException e) {
    // Its messages may point at a location or a limit in its own terms: say them in the client's.
    StringBuilder message = new StringBuilder(String.valueOf(e.getOriginalMessage())
        .replaceAll("\\[Source: [^;\\]]*; line: (\\d+), column: (\\d+)\\]", "line $1 column $2")
        .replaceAll(", from `[^`]*`\\)", ")")
        // advice to the server's developer (which of the parser's features to enable) means nothing to a client
        .replaceAll(": enable `[^`]*` to allow", "")
        .replaceAll(" \\(not recognized as one since Feature '[A-Z_]+' not enabled for parser\\)", ""));
    JsonLocation at = e.getLocation();
    if (at != null && at.getLineNr() > 0) {
      message.append(" at line ").append(at.getLineNr()).append(" column ").append(at.getColumnNr());
    }
    if (e.getProcessor() instanceof JsonParser parser && parser.getParsingContext() != null) {
      String path = parser.getParsingContext().pathAsPointer().toString();
      if (!path.isEmpty()) {
        message.append(" (").append(path).append(')');
      }
    }
    return message.toString();
  }

  static String bounded(String message) {
    if (message == null || message.length() <= MAX_MESSAGE) {
      return message;
    }
    return message.substring(0, MAX_MESSAGE) + "... (" + (message.length() - MAX_MESSAGE) + " more characters)";
  }

  private static HttpResponseStatus status(JunctionException e) {
    return switch (e.kind()) {
      case INVALID_ARGUMENT, FAILED_PRECONDITION -> HttpResponseStatus.BAD_REQUEST;
      case NOT_FOUND -> HttpResponseStatus.NOT_FOUND;
      case UNAVAILABLE -> HttpResponseStatus.SERVICE_UNAVAILABLE;
      case RESOURCE_EXHAUSTED -> HttpResponseStatus.TOO_MANY_REQUESTS;
      case DEADLINE_EXCEEDED -> HttpResponseStatus.GATEWAY_TIMEOUT;
      case CANCELLED -> CLIENT_CLOSED;
      case INTERNAL -> HttpResponseStatus.INTERNAL_SERVER_ERROR;
    };
  }
}
