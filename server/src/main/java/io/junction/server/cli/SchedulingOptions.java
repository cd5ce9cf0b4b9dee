package io.junction.server.cli;

import io.junction.server.config.DeviceConfig;
import io.junction.server.config.ServerConfig;
import java.util.Optional;
import java.util.OptionalInt;
import picocli.CommandLine.Option;

/** How many executions run at once and how many requests wait: the scheduler's options. */
public final class SchedulingOptions {
  @Option(names = "--cpu-slots", paramLabel = "N",
      description = "Model executions that may run on the CPU at once, over all models (default: one per core).")
  Integer cpuSlots;

  @Option(names = "--gpu-slots", defaultValue = "" + DeviceConfig.DEFAULT_GPU_SLOTS, paramLabel = "N",
      description = "Model executions that may run on each GPU at once, over all models on it "
          + "(default: ${DEFAULT-VALUE}).")
  int gpuSlots;

  @Option(names = "--max-queue-size", defaultValue = "" + ServerConfig.DEFAULT_MAX_QUEUE_SIZE, paramLabel = "N",
      description = "Requests that may wait per model and priority level when config.pbtxt sets no max_queue_size; "
          + "more get RESOURCE_EXHAUSTED (default: ${DEFAULT-VALUE}).")
  int maxQueueSize;

  @Option(names = "--default-max-batch-size", defaultValue = "" + ServerConfig.DEFAULT_MAX_BATCH_SIZE,
      paramLabel = "N", description = "max_batch_size for batchable models without config.pbtxt "
          + "(default: ${DEFAULT-VALUE}).")
  int defaultMaxBatchSize;

  /** --cpu-slots when given; otherwise the server's default (one per core). */
  public OptionalInt cpuSlots() {
    return cpuSlots == null ? OptionalInt.empty() : OptionalInt.of(cpuSlots);
  }

  public int maxQueueSize() {
    return maxQueueSize;
  }

  public int defaultMaxBatchSize() {
    return defaultMaxBatchSize;
  }

  public DeviceConfig devices() {
    return new DeviceConfig(gpuSlots, Optional.empty());
  }
}
