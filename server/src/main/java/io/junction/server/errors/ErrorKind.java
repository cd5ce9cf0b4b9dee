package io.junction.server.errors;

/**
 * What kind of failure a {@link JunctionException} is, whatever the transport: each transport maps a
 * kind to one of its codes in one place (gRPC status, HTTP status), and records name it.
 */
public enum ErrorKind {
  INVALID_ARGUMENT,
  NOT_FOUND,
  UNAVAILABLE,
  RESOURCE_EXHAUSTED,
  DEADLINE_EXCEEDED,
  CANCELLED,
  FAILED_PRECONDITION,
  INTERNAL
}
