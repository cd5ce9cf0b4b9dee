package io.junction.golden;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Reads a golden file: numpy {@code .npz} ({@link NpzGoldenFile}) or JSON lines ({@link
 * JsonLinesGoldenFile}), chosen by the file's extension.
 */
public final class GoldenFiles {
  /** What a golden file may hold by default: golden cases are a handful of examples, not a data set. */
  public static final long DEFAULT_MAX_BYTES = 64L << 20;

  private GoldenFiles() {}

  /** Whether the file's name says it is a golden file format this reads ({@code .npz}, {@code .jsonl}). */
  public static boolean isGoldenFileName(String name) {
    return name.endsWith(".npz") || name.endsWith(".jsonl");
  }

  /**
   * @param maxBytes the most the file (and, for .npz, its arrays unpacked) may take
   * @return the cases, at least one
   * @throws IllegalArgumentException naming the file and what is wrong in it
   */
  public static List<GoldenCase> read(Path file, long maxBytes) throws IOException {
    long size = Files.size(file);
    if (size > maxBytes) {
      throw new IllegalArgumentException(file.getFileName() + " is " + size + " bytes; golden files may hold "
          + maxBytes);
    }
    List<GoldenCase> cases;
    try {
      cases = file.getFileName().toString().endsWith(".npz") ? NpzGoldenFile.read(file, maxBytes)
          : JsonLinesGoldenFile.read(file);
    } catch (IllegalArgumentException | ArithmeticException e) {
      throw new IllegalArgumentException(file.getFileName() + ": " + e.getMessage(), e);
    }
    if (cases.isEmpty()) {
      throw new IllegalArgumentException(file.getFileName() + " has no golden cases");
    }
    return cases;
  }
}
