package io.junction.testkit;

import java.nio.file.Path;

/** Build-time entry point: writes the demo model repository into the directory given as argument. */
public final class DemoRepositoryGenerator {
  private DemoRepositoryGenerator() {}

  public static void main(String[] args) {
    if (args.length != 1) {
      throw new IllegalArgumentException("usage: DemoRepositoryGenerator <output directory>");
    }
    Path root = DemoRepository.write(Path.of(args[0]));
    System.out.println("demo model repository written to " + root);
  }
}
