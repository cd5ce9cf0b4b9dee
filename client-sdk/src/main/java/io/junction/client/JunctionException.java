package io.junction.client;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * A call to Junction failed. Carries the gRPC status code and the server's message, which names the
 * model, the tensor and what was wrong.
 */
public final class JunctionException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final transient Status status;

  JunctionException(Status status, Throwable cause) {
    super(status.getCode() + (status.getDescription() == null ? "" : ": " + status.getDescription()), cause);
    this.status = status;
  }

  static JunctionException from(Throwable t) {
    Throwable cause = t;
    while (cause != null && !(cause instanceof StatusRuntimeException) && cause.getCause() != null && cause != cause.getCause()) {
      cause = cause.getCause();
    }
    if (cause instanceof StatusRuntimeException sre) {
      return new JunctionException(sre.getStatus(), sre);
    }
    if (t instanceof JunctionException je) {
      return je;
    }
    return new JunctionException(Status.fromThrowable(t), t);
  }

  public Status status() {
    return status;
  }

  public Status.Code code() {
    return status.getCode();
  }

  /** The server's description of what went wrong, or an empty string. */
  public String serverMessage() {
    return status.getDescription() == null ? "" : status.getDescription();
  }
}
