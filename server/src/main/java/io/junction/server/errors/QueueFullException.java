package io.junction.server.errors;

/** The model's queue (or the server's work queue) is full; try again later. */
public final class QueueFullException extends JunctionException {
  private static final long serialVersionUID = 1L;

  public QueueFullException(String message) {
    super(message);
  }

  public QueueFullException(String message, Throwable cause) {
    super(message, cause);
  }

  @Override
  public ErrorKind kind() {
    return ErrorKind.RESOURCE_EXHAUSTED;
  }
}
