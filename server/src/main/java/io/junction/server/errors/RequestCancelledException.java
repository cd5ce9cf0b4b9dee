package io.junction.server.errors;

/** The caller cancelled the request before it ran. */
public final class RequestCancelledException extends JunctionException {
  private static final long serialVersionUID = 1L;

  public RequestCancelledException(String message) {
    super(message);
  }

  public RequestCancelledException(String message, Throwable cause) {
    super(message, cause);
  }

  @Override
  public ErrorKind kind() {
    return ErrorKind.CANCELLED;
  }
}
