package io.junction.server;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * The demo model repository packed in the server jar (generated at build time by the test kit),
 * copied to a temporary directory when the server starts without {@code --model-repository}.
 * Whoever calls {@link #extract()} owns the directory and deletes it with {@link #delete(Path)}.
 */
final class DemoRepository {
  private static final String RESOURCE_ROOT = "demo-repository/";
  /** Lists the repository's files, one relative path a line; written by the generator. */
  private static final String INDEX = RESOURCE_ROOT + "FILES";

  private DemoRepository() {}

  static Path extract() throws IOException {
    ClassLoader loader = DemoRepository.class.getClassLoader();
    String index;
    try (InputStream in = loader.getResourceAsStream(INDEX)) {
      if (in == null) {
        throw new IOException("this build has no demo model repository (" + INDEX + " is missing); "
            + "build with 'mvn package' or pass --model-repository");
      }
      index = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    Path root = Files.createTempDirectory("junction-demo-");
    for (String line : index.split("\n")) {
      String relative = line.trim();
      if (relative.isEmpty()) {
        continue;
      }
      Path target = root.resolve(relative).normalize();
      if (!target.startsWith(root)) {
        throw new IOException("demo repository index names a path outside it: " + relative);
      }
      Files.createDirectories(target.getParent());
      try (InputStream in = loader.getResourceAsStream(RESOURCE_ROOT + relative)) {
        if (in == null) {
          throw new IOException("demo repository file missing from the jar: " + relative);
        }
        Files.copy(in, target);
      }
    }
    return root;
  }

  static void delete(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + root, e);
    }
  }
}
