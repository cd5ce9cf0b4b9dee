package io.junction.loadtest.bench;

import io.junction.testkit.ModelRepositoryWriter;
import java.nio.file.Path;

/**
 * Writes a model repository holding only the per-call-cost benchmark's "1 MiB" model (an identity of
 * [n, 3, 224, 224] FP32 images, 602,112 bytes a row), for a server started by hand (large-requests.sh).
 *
 * <p>Usage: {@code ImageRepository DIR}
 */
public final class ImageRepository {
  private ImageRepository() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 1) {
      System.err.println("usage: ImageRepository DIR");
      System.exit(2);
    }
    new ModelRepositoryWriter(Path.of(args[0]))
        .model("image", 1, PerCallCostBenchmark.imageModel())
        .config("image", PerCallCostBenchmark.IMAGE_CONFIG);
  }
}
