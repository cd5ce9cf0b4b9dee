package io.junction.server.cli;

import io.junction.server.config.HttpLimits;
import java.time.Duration;
import picocli.CommandLine.Option;

/** The HTTP port's limits: how long a request may take to arrive, how many connections, how large a body. */
public final class HttpLimitOptions {
  @Option(names = "--http-request-timeout-secs", defaultValue = "10", paramLabel = "N",
      description = "An HTTP connection must deliver a whole request within N seconds of opening or of its last "
          + "answer, and take each answer within N seconds of its writing, or it is closed (default: ${DEFAULT-VALUE}).")
  long requestTimeoutSeconds;

  @Option(names = "--http-max-request-bytes", defaultValue = "8388608", paramLabel = "BYTES",
      description = "Largest HTTP request (REST inference bodies); larger ones get 413 (default: ${DEFAULT-VALUE}).")
  int maxRequestBytes;

  @Option(names = "--http-max-connections", defaultValue = "128", paramLabel = "N",
      description = "HTTP connections open at once; more are closed at once (default: ${DEFAULT-VALUE}).")
  int maxConnections;

  public HttpLimits limits() {
    Positive.number("--http-request-timeout-secs", requestTimeoutSeconds);
    return new HttpLimits(Duration.ofSeconds(requestTimeoutSeconds), maxConnections, maxRequestBytes);
  }
}
