package io.junction.server.backend;

/** A model version could not be loaded; the message says why, for RepositoryIndex and the log. */
public class ModelLoadException extends Exception {
  private static final long serialVersionUID = 1L;

  public ModelLoadException(String message) {
    super(message);
  }

  public ModelLoadException(String message, Throwable cause) {
    super(message, cause);
  }
}
