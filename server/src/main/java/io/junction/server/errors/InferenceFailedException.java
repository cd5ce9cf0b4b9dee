package io.junction.server.errors;

/** The backend failed while running a batch; the request's inputs were valid. */
public final class InferenceFailedException extends JunctionException {
  private static final long serialVersionUID = 1L;

  public InferenceFailedException(String message) {
    super(message);
  }

  public InferenceFailedException(String message, Throwable cause) {
    super(message, cause);
  }

  @Override
  public ErrorKind kind() {
    return ErrorKind.INTERNAL;
  }
}
