package io.junction.server.errors;

/**
 * A failure the caller should see, with a message that names the model, the tensor and what was
 * wrong. The transport layer maps each subclass to one status code in one place.
 */
public abstract class JunctionException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  protected JunctionException(String message) {
    super(message);
  }

  protected JunctionException(String message, Throwable cause) {
    super(message, cause);
  }
}
