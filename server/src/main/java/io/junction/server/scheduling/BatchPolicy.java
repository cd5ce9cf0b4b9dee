package io.junction.server.scheduling;

import io.junction.proto.inference.ModelConfig;
import io.junction.proto.inference.ModelDynamicBatching;
import io.junction.proto.inference.ModelInstanceGroup;
import java.util.Arrays;
import java.util.List;

/**
 * A model version's batching and queueing policy, parsed once from its config (Triton's semantics);
 * the batcher never reads the config again.
 *
 * @param maxBatchSize largest batch in rows; 0 when the model has no batch dimension
 * @param dynamicBatching whether requests are merged; without it each request runs alone
 * @param preferredBatchSizes ascending; a batch reaching one of them goes at once
 * @param maxQueueDelayNanos the longest the oldest request waits for a fuller batch
 * @param priorityLevels number of levels, 1 (highest) .. n; 1 when the config has none
 * @param defaultPriorityLevel level of requests that do not name one
 * @param queuePolicies one per level, index 0 for level 1
 * @param instances batches of this model that may run at once
 */
public record BatchPolicy(int maxBatchSize, boolean dynamicBatching, int[] preferredBatchSizes,
    long maxQueueDelayNanos, int priorityLevels, int defaultPriorityLevel, List<QueuePolicy> queuePolicies,
    int instances) {

  public BatchPolicy {
    preferredBatchSizes = preferredBatchSizes.clone();
    Arrays.sort(preferredBatchSizes);
    queuePolicies = List.copyOf(queuePolicies);
    if (maxBatchSize < 0) {
      throw new IllegalArgumentException("maxBatchSize must be non-negative, got " + maxBatchSize);
    }
    if (maxQueueDelayNanos < 0) {
      throw new IllegalArgumentException("maxQueueDelayNanos must be non-negative, got " + maxQueueDelayNanos);
    }
    if (priorityLevels < 1 || queuePolicies.size() != priorityLevels) {
      throw new IllegalArgumentException("need one queue policy per priority level, got " + queuePolicies.size()
          + " for " + priorityLevels);
    }
    if (defaultPriorityLevel < 1 || defaultPriorityLevel > priorityLevels) {
      throw new IllegalArgumentException("defaultPriorityLevel must be 1.." + priorityLevels + ", got "
          + defaultPriorityLevel);
    }
    if (instances < 1) {
      throw new IllegalArgumentException("instances must be positive, got " + instances);
    }
    for (int p : preferredBatchSizes) {
      if (p < 1 || (maxBatchSize > 0 && p > maxBatchSize)) {
        throw new IllegalArgumentException("preferred_batch_size " + p + " must be 1.." + maxBatchSize);
      }
    }
  }

  @Override
  public int[] preferredBatchSizes() {
    return preferredBatchSizes.clone();
  }

  /** The largest number of rows one execution may carry. */
  public int maxRows() {
    return dynamicBatching ? Math.max(1, maxBatchSize) : 1;
  }

  /** Whether a batch of {@code rows} has reached a size worth dispatching at once. */
  public boolean isFull(long rows) {
    if (rows >= maxRows()) {
      return true;
    }
    for (int p : preferredBatchSizes) {
      if (p == rows) {
        return true;
      }
    }
    return false;
  }

  /** Requests that may wait at once over all priority levels; beyond that callers get RESOURCE_EXHAUSTED. */
  public long queueCapacity() {
    return queuePolicies.stream().mapToLong(QueuePolicy::maxQueueSize).sum();
  }

  public QueuePolicy queuePolicy(int level) {
    return queuePolicies.get(level - 1);
  }

  /**
   * The policy of a model's effective config.
   *
   * @param fallbackMaxQueueSize bound for queues the config leaves unbounded
   */
  public static BatchPolicy from(ModelConfig config, int fallbackMaxQueueSize) {
    int instances = Math.max(1, config.getInstanceGroupList().stream().mapToInt(BatchPolicy::instanceCount).sum());
    if (!config.hasDynamicBatching()) {
      return new BatchPolicy(config.getMaxBatchSize(), false, new int[0], 0, 1, 1,
          List.of(QueuePolicy.unbounded(fallbackMaxQueueSize)), instances);
    }
    ModelDynamicBatching db = config.getDynamicBatching();
    int levels = (int) Math.max(1, Math.min(db.getPriorityLevels(), 64));
    int defaultLevel = db.getDefaultPriorityLevel() == 0 ? levels : (int) db.getDefaultPriorityLevel();
    QueuePolicy fallback = db.hasDefaultQueuePolicy()
        ? QueuePolicy.from(db.getDefaultQueuePolicy(), fallbackMaxQueueSize)
        : QueuePolicy.unbounded(fallbackMaxQueueSize);
    QueuePolicy[] perLevel = new QueuePolicy[levels];
    for (int level = 1; level <= levels; level++) {
      var specific = db.getPriorityQueuePolicyMap().get((long) level);
      perLevel[level - 1] = specific == null ? fallback : QueuePolicy.from(specific, fallbackMaxQueueSize);
    }
    int[] preferred = db.getPreferredBatchSizeList().stream().mapToInt(Integer::intValue).toArray();
    return new BatchPolicy(config.getMaxBatchSize(), config.getMaxBatchSize() > 0, preferred,
        Math.multiplyExact(db.getMaxQueueDelayMicroseconds(), 1000L), levels, defaultLevel, List.of(perLevel),
        instances);
  }

  /** Triton counts {@code count} instances per listed GPU for GPU groups, {@code count} otherwise. */
  private static int instanceCount(ModelInstanceGroup group) {
    int count = Math.max(1, group.getCount());
    return group.getKind() == ModelInstanceGroup.Kind.KIND_GPU ? count * Math.max(1, group.getGpusCount()) : count;
  }
}
