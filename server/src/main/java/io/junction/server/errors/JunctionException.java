package io.junction.server.errors;

/**
 * A failure the caller should see, with a message that names the model, the tensor and what was
 * wrong. Its {@link #kind()} is what transports map to their codes, each in one place.
 */
public abstract class JunctionException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  protected JunctionException(String message) {
    super(message);
  }

  protected JunctionException(String message, Throwable cause) {
    super(message, cause);
  }

  /** What kind of failure this is, for the transports' status codes and for records. */
  public abstract ErrorKind kind();
}
