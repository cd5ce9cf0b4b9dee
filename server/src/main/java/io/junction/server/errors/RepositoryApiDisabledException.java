package io.junction.server.errors;

/** RepositoryModelLoad/Unload were called while the model control mode does not allow them. */
public final class RepositoryApiDisabledException extends JunctionException {
  private static final long serialVersionUID = 1L;

  public RepositoryApiDisabledException(String message) {
    super(message);
  }

  @Override
  public ErrorKind kind() {
    return ErrorKind.FAILED_PRECONDITION;
  }
}
