package io.junction.server.errors;

/** The model exists but is not ready: loading, unloading or failed to load. */
public final class ModelUnavailableException extends JunctionException {
  private static final long serialVersionUID = 1L;

  public ModelUnavailableException(String message) {
    super(message);
  }

  public ModelUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }

  @Override
  public ErrorKind kind() {
    return ErrorKind.UNAVAILABLE;
  }
}
