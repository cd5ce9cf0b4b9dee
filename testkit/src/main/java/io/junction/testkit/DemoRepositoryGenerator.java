package io.junction.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Build-time entry point: writes the demo model repository into the directory given as argument,
 * with a {@code FILES} index of its files (resources in a jar cannot be listed).
 */
public final class DemoRepositoryGenerator {
  static final String INDEX = "FILES";

  private DemoRepositoryGenerator() {}

  public static void main(String[] args) throws IOException {
    if (args.length != 1) {
      throw new IllegalArgumentException("usage: DemoRepositoryGenerator <output directory>");
    }
    Path root = DemoRepository.write(Path.of(args[0]));
    try (Stream<Path> files = Files.walk(root)) {
      String index = files.filter(Files::isRegularFile)
          .map(p -> root.relativize(p).toString().replace('\\', '/'))
          .filter(p -> !p.equals(INDEX))
          .sorted()
          .collect(Collectors.joining("\n", "", "\n"));
      Files.writeString(root.resolve(INDEX), index);
    }
    System.out.println("demo model repository written to " + root);
  }
}
