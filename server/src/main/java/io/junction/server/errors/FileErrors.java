package io.junction.server.errors;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/**
 * What went wrong with a file, in words: the JDK's file exceptions carry only the path as their message
 * ("/etc/junction/routes.yaml"), which says which file but not what was wrong with it.
 */
public final class FileErrors {
  private FileErrors() {}

  /** What was wrong, and with which file: for a message that does not name the file already. */
  public static String describe(IOException e) {
    if (!(e instanceof FileSystemException f) || f.getFile() == null) {
      return reason(e);
    }
    return reason(e) + ": " + f.getFile() + (f.getOtherFile() == null ? "" : " -> " + f.getOtherFile());
  }

  /** What was wrong, for a message that names the file itself. */
  public static String reason(IOException e) {
    if (!(e instanceof FileSystemException f)) {
      return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
    return e instanceof NoSuchFileException ? "no such file or directory"
        : e instanceof AccessDeniedException ? "permission denied"
        : e instanceof NotDirectoryException ? "not a directory"
        : e instanceof FileAlreadyExistsException ? "a file of that name exists already"
        : e instanceof DirectoryNotEmptyException ? "the directory is not empty"
        : f.getReason() != null ? f.getReason() : e.getClass().getSimpleName();
  }
}
