package io.junction.server.errors;

/** The request's deadline passed before it could run; it never ran. */
public final class RequestTimeoutException extends JunctionException {
  private static final long serialVersionUID = 1L;

  public RequestTimeoutException(String message) {
    super(message);
  }

  public RequestTimeoutException(String message, Throwable cause) {
    super(message, cause);
  }

  @Override
  public ErrorKind kind() {
    return ErrorKind.DEADLINE_EXCEEDED;
  }
}
