package io.junction.loadtest.bench;

import io.junction.testkit.ModelRepositoryWriter;
import java.nio.file.Path;

/**
 * Writes a model repository holding one of the per-call-cost benchmark's models, for a server started by hand:
 * <ul>
 *   <li>{@code big}: the big MLP (512→2048→2048→512, one CPU instance, max batch 128) with that benchmark's batching
 *       config ({@code BIG_MLP_BATCHING} or its default), which it prints (big-mlp-threads.sh);
 *   <li>{@code image}: the "1 MiB" model, an identity of [n, 3, 224, 224] FP32 images, 602,112 bytes a row
 *       (large-requests.sh).
 * </ul>
 *
 * <p>Usage: {@code BenchRepository DIR big|image}
 */
public final class BenchRepository {
  private BenchRepository() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 2 || !(args[1].equals("big") || args[1].equals("image"))) {
      System.err.println("usage: BenchRepository DIR big|image");
      System.exit(2);
    }
    ModelRepositoryWriter repo = new ModelRepositoryWriter(Path.of(args[0]));
    if (args[1].equals("big")) {
      repo.model("big", 1, PerCallCostBenchmark.bigMlp().onnx()).config("big", PerCallCostBenchmark.bigConfig());
      System.out.println("big MLP: " + PerCallCostBenchmark.bigBatching());
    } else {
      repo.model("image", 1, PerCallCostBenchmark.imageModel()).config("image", PerCallCostBenchmark.IMAGE_CONFIG);
    }
  }
}
