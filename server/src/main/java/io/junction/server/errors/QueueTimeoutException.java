package io.junction.server.errors;

/** The request waited in the model's queue past its queue timeout (REJECT policy); it never ran. */
public final class QueueTimeoutException extends JunctionException {
  private static final long serialVersionUID = 1L;

  public QueueTimeoutException(String message) {
    super(message);
  }

  @Override
  public ErrorKind kind() {
    return ErrorKind.UNAVAILABLE;
  }
}
