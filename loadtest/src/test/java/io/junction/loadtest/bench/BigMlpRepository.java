package io.junction.loadtest.bench;

import io.junction.testkit.DeepMlp;
import io.junction.testkit.ModelRepositoryWriter;
import java.nio.file.Path;

/**
 * Writes a model repository holding only the per-call-cost benchmark's big MLP (512→2048→2048→512, one CPU instance,
 * max batch 128) with that benchmark's batching config ({@code BIG_MLP_BATCHING} or its default), for a server started
 * by hand (big-mlp-threads.sh), and prints the config.
 *
 * <p>Usage: {@code BigMlpRepository DIR}
 */
public final class BigMlpRepository {
  private BigMlpRepository() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 1) {
      System.err.println("usage: BigMlpRepository DIR");
      System.exit(2);
    }
    new ModelRepositoryWriter(Path.of(args[0]))
        .model("big", 1, PerCallCostBenchmark.bigMlp().onnx())
        .config("big", PerCallCostBenchmark.bigConfig());
    System.out.println("big MLP: " + PerCallCostBenchmark.bigBatching());
  }
}
