package io.junction.loadtest.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * A temporary directory for a benchmark's model repository and files, deleted with everything in it when closed: a
 * run writes tens of megabytes of models (the big MLP is 24 MB, twice), and runs on demand add up.
 */
final class ScratchDirectory implements AutoCloseable {
  private final Path path;

  ScratchDirectory(String prefix) throws IOException {
    this.path = Files.createTempDirectory(prefix);
  }

  Path path() {
    return path;
  }

  /** Deletes the directory; close it only once the servers that read from it have exited. */
  @Override
  public void close() throws IOException {
    List<Path> deepestFirst;
    try (Stream<Path> files = Files.walk(path)) {
      deepestFirst = files.sorted(Comparator.reverseOrder()).toList();
    }
    for (Path p : deepestFirst) {
      Files.deleteIfExists(p);
    }
  }
}
