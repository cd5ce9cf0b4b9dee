package io.junction.server.config;

import java.time.Duration;

/**
 * Limits of the HTTP port (probes and metrics), so that slow or many clients cannot starve the kubelet's
 * probes or Prometheus.
 *
 * @param requestTimeout a connection must deliver a whole request within this long of opening, or of its
 *     previous answer (also the idle keep-alive time), and take each answer within this long of its writing;
 *     otherwise it is closed
 * @param maxConnections connections open at once; more are closed as soon as they are accepted
 * @param maxRequestBytes the largest request (line, headers and body) taken
 */
public record HttpLimits(Duration requestTimeout, int maxConnections, int maxRequestBytes) {
  /** 8 MiB bodies (REST inference; larger tensors belong on gRPC) on at most 128 connections. */
  public static final HttpLimits DEFAULTS = new HttpLimits(Duration.ofSeconds(10), 128, 8 * 1024 * 1024);

  public HttpLimits {
    if (requestTimeout.isNegative() || requestTimeout.isZero()) {
      throw new IllegalArgumentException("the HTTP request timeout must be positive, got " + requestTimeout);
    }
    if (maxConnections < 1) {
      throw new IllegalArgumentException("HTTP connections (--http-max-connections) must be at least 1, got " + maxConnections);
    }
    if (maxRequestBytes < 1024) {
      throw new IllegalArgumentException("the largest HTTP request (--http-max-request-bytes) must be at least 1024 bytes, got "
          + maxRequestBytes);
    }
  }
}
