package io.junction.server.scheduling;

import io.junction.proto.inference.ModelConfig;
import io.junction.proto.inference.ModelDynamicBatching;
import io.junction.proto.inference.ModelInstanceGroup;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * A model version's batching and queueing policy, parsed once from its config (Triton's semantics);
 * the batcher never reads the config again.
 *
 * @param maxBatchSize largest batch in rows; 0 when the model has no batch dimension
 * @param dynamicBatching whether requests are merged; without it each request runs alone
 * @param preferredBatchSizes ascending; a batch reaching one of them goes at once
 * @param maxQueueDelayNanos the longest the oldest request waits for a fuller batch
 * @param waitWhileIdle whether a batch below its next full size waits out the queue delay even while an instance is
 *     idle and nothing else is on its way (Triton's rule, model parameter {@value #WAIT_WHILE_IDLE}); by default it
 *     then goes at once
 * @param priorityLevels number of levels, 1 (highest) .. n; 1 when the config has none
 * @param defaultPriorityLevel level of requests that do not name one
 * @param queuePolicies one per level, index 0 for level 1
 * @param instances batches of this model that may run at once
 */
public record BatchPolicy(int maxBatchSize, boolean dynamicBatching, int[] preferredBatchSizes,
    long maxQueueDelayNanos, boolean waitWhileIdle, int priorityLevels, int defaultPriorityLevel,
    List<QueuePolicy> queuePolicies, int instances) {

  /** The model parameter that turns on {@code waitWhileIdle}: {@code "true"} or {@code "false"}. */
  public static final String WAIT_WHILE_IDLE = "batch_wait_while_idle";
  /** The config.pbtxt parameters batching reads. */
  public static final Set<String> PARAMETERS = Set.of(WAIT_WHILE_IDLE);

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

  /** The smallest size at which a batch goes at once: the smallest preferred size, else the max. */
  public int smallestFullRows() {
    return preferredBatchSizes.length > 0 ? preferredBatchSizes[0] : maxRows();
  }

  /** Whether batches wait for a full size while an instance is idle: asked for, and a delay to wait out. */
  public boolean holdsBatches() {
    return waitWhileIdle && dynamicBatching && maxQueueDelayNanos > 0;
  }

  /**
   * Whether a batch of {@code rows} waits for company while an instance is idle and nothing else is on its way: only
   * when the model {@linkplain #holdsBatches holds batches}, and only while it is short of a full size.
   */
  public boolean waitsWhileIdle(long rows) {
    return holdsBatches() && !isFull(rows);
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
   * @throws IllegalArgumentException naming what in the config is wrong
   */
  public static BatchPolicy from(ModelConfig config, int fallbackMaxQueueSize) {
    int instances = Math.max(1, config.getInstanceGroupList().stream().mapToInt(BatchPolicy::instanceCount).sum());
    if (!config.hasDynamicBatching()) {
      return new BatchPolicy(config.getMaxBatchSize(), false, new int[0], 0, false, 1, 1,
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
        Math.multiplyExact(db.getMaxQueueDelayMicroseconds(), 1000L), waitWhileIdle(config), levels, defaultLevel,
        List.of(perLevel), instances);
  }

  private static boolean waitWhileIdle(ModelConfig config) {
    var parameter = config.getParametersMap().get(WAIT_WHILE_IDLE);
    if (parameter == null) {
      return false;
    }
    String value = parameter.getStringValue().trim();
    if (value.equalsIgnoreCase("true") || value.equalsIgnoreCase("false")) {
      return Boolean.parseBoolean(value);
    }
    throw new IllegalArgumentException("parameter " + WAIT_WHILE_IDLE + " must be \"true\" or \"false\", got \""
        + parameter.getStringValue() + "\"");
  }

  /** Triton counts {@code count} instances per listed GPU for GPU groups, {@code count} otherwise. */
  private static int instanceCount(ModelInstanceGroup group) {
    int count = Math.max(1, group.getCount());
    return group.getKind() == ModelInstanceGroup.Kind.KIND_GPU ? count * Math.max(1, group.getGpusCount()) : count;
  }
}
