package io.junction.loadtest.bench;

import io.junction.testkit.DeepMlp;
import io.junction.testkit.ModelRepositoryWriter;
import java.nio.file.Path;

/**
 * Writes a model repository holding only the per-call-cost benchmark's big MLP (512→2048→2048→512, one CPU instance,
 * max batch 128) under the batching config given, for a server started by hand (big-mlp-threads.sh).
 *
 * <p>Usage: {@code BigMlpRepository DIR 'dynamic_batching { ... }'}
 */
public final class BigMlpRepository {
  private BigMlpRepository() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 2) {
      System.err.println("usage: BigMlpRepository DIR BATCHING-CONFIG");
      System.exit(2);
    }
    new ModelRepositoryWriter(Path.of(args[0]))
        .model("big", 1, PerCallCostBenchmark.bigMlp().onnx())
        .config("big", PerCallCostBenchmark.BIG_INSTANCE + args[1] + "\n");
  }
}
