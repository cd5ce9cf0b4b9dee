package io.junction.server.errors;

/** The request does not fit the model: datatype, shape, contents, names. */
public final class InvalidInputException extends JunctionException {
  private static final long serialVersionUID = 1L;

  public InvalidInputException(String message) {
    super(message);
  }

  public InvalidInputException(String message, Throwable cause) {
    super(message, cause);
  }

  @Override
  public ErrorKind kind() {
    return ErrorKind.INVALID_ARGUMENT;
  }
}
