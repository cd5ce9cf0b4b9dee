package io.junction.loadtest.profile;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Reads a profile: the knee (the most inferences per second with no failures and the chosen latency
 * percentile within the budget) and the config a model would start from there, each value with its reason,
 * in the spirit of Triton's Model Analyzer.
 *
 * @param knee the best point within the budget; empty when none was
 * @param verdict one sentence on the knee, or on why there is none
 * @param suggestions config values with their reasons, in config.pbtxt's field names
 * @param config the suggestions as a config.pbtxt fragment
 */
public record ProfileAnalysis(Optional<ProfilePoint> knee, String verdict, List<Suggestion> suggestions, String config) {
  /** A config value and why. */
  public record Suggestion(String field, String value, String why) {}

  /** What the profile knew of the model and of what it swept. */
  public record Context(int configuredMaxBatchSize, boolean dynamicBatching, String instanceKind, boolean instancesSwept,
      boolean delaysSwept, int largestRequestBatch) {}

  public ProfileAnalysis {
    suggestions = List.copyOf(suggestions);
  }

  public static ProfileAnalysis of(List<ProfilePoint> points, double budgetMs, int percentile, Context context) {
    Optional<ProfilePoint> knee = points.stream()
        .filter(p -> p.failures() == 0 && p.answered() > 0 && p.latencyMs(percentile) <= budgetMs)
        .max(Comparator.comparingDouble(ProfilePoint::inferencesPerSecond)
            .thenComparing(Comparator.comparingDouble((ProfilePoint p) -> p.latencyMs(percentile)).reversed()));
    if (knee.isEmpty()) {
      Optional<ProfilePoint> fastest = points.stream().filter(p -> p.answered() > 0)
          .min(Comparator.comparingDouble(p -> p.latencyMs(percentile)));
      String verdict = fastest.map(p -> String.format(Locale.ROOT, "No point kept p%d within %s ms without failures; "
          + "the lowest was %.2f ms (%s, batch %d, concurrency %d): the model is slower than the budget on this "
          + "server, or the budget is too tight.", percentile, number(budgetMs), p.latencyMs(percentile),
          p.configuration(), p.batchSize(), p.concurrency())).orElse("No call was answered.");
      return new ProfileAnalysis(Optional.empty(), verdict, List.of(), "");
    }
    ProfilePoint k = knee.get();
    String verdict = String.format(Locale.ROOT, "Knee: %.0f inferences/s at p%d %.2f ms (budget %s ms) with %s, "
        + "batch %d, concurrency %d.", k.inferencesPerSecond(), percentile, k.latencyMs(percentile), number(budgetMs),
        k.configuration(), k.batchSize(), k.concurrency());
    List<Suggestion> suggestions = new ArrayList<>();
    StringBuilder config = new StringBuilder();
    if (context.configuredMaxBatchSize() > 0 && !context.dynamicBatching()) {
      suggestions.add(new Suggestion("max_batch_size", Integer.toString(context.configuredMaxBatchSize()),
          "as configured: without dynamic batching it only bounds the rows a request may carry"));
      suggestions.add(new Suggestion("dynamic_batching", "(not measured)", "the model has no dynamic_batching, so each "
          + "request ran alone; --max-queue-delays 0,100,500 loads it with dynamic batching at those delays and measures "
          + "what merging requests gains"));
    } else if (context.configuredMaxBatchSize() > 0) {
      long waiting = (long) k.concurrency() * k.batchSize();
      long maxBatch = nextPowerOfTwo(Math.max(Math.max(waiting, Math.round(Math.ceil(k.meanExecutedBatch()))),
          context.largestRequestBatch()));
      suggestions.add(new Suggestion("max_batch_size", Long.toString(maxBatch), String.format(Locale.ROOT,
          "at the knee at most %d rows wait at once (%d callers × %d row(s)), so a larger batch never forms; no smaller "
              + "than the largest request tried (%d row(s)), since clients may not send more than this",
          waiting, k.concurrency(), k.batchSize(), context.largestRequestBatch())));
      config.append("max_batch_size: ").append(maxBatch).append('\n');
      config.append("dynamic_batching {\n");
      long preferred = nearestPowerOfTwo(k.meanExecutedBatch());
      if (k.meanExecutedBatch() >= 1.5 * k.batchSize() && preferred <= maxBatch) {
        suggestions.add(new Suggestion("dynamic_batching.preferred_batch_size", "[ " + preferred + " ]",
            String.format(Locale.ROOT, "the batcher merged requests into %.1f rows per execution on average at the "
                + "knee; at that size it sends a batch without waiting out the queue delay", k.meanExecutedBatch())));
        config.append("  preferred_batch_size: [ ").append(preferred).append(" ]\n");
      } else {
        suggestions.add(new Suggestion("dynamic_batching.preferred_batch_size", "(none)", String.format(Locale.ROOT,
            "at the knee the batcher rarely merged requests (%.1f rows per execution, %d per request): a preferred "
                + "size would only add waiting", k.meanExecutedBatch(), k.batchSize())));
      }
      long delay;
      String why;
      if (context.delaysSwept()) {
        delay = k.maxQueueDelayMicros();
        why = "the queue delay of the knee among those tried";
      } else {
        double headroomMs = Math.max(0, budgetMs - k.latencyMs(percentile)) / 2;
        double ms = Math.min(k.computeMs(), headroomMs);
        delay = Math.round(ms * 1000 / 50) * 50;
        why = String.format(Locale.ROOT, "the lesser of one execution's time (%.2f ms: waiting longer fills a batch more "
            + "slowly than running it) and half the latency headroom at the knee (%.2f ms, kept for spikes); "
            + "--max-queue-delays measures it", k.computeMs(), headroomMs);
      }
      suggestions.add(new Suggestion("dynamic_batching.max_queue_delay_microseconds", Long.toString(delay), why));
      config.append("  max_queue_delay_microseconds: ").append(delay).append("\n}\n");
    } else {
      suggestions.add(new Suggestion("max_batch_size", "0", "the model has no batch dimension (max_batch_size 0): "
          + "requests run one at a time, and instances are what adds throughput"));
    }
    if (context.instancesSwept()) {
      suggestions.add(new Suggestion("instance_group.count", Integer.toString(k.instances()),
          "the instance count of the knee among those tried"));
      config.append("instance_group [ { count: ").append(k.instances()).append(", kind: ").append(context.instanceKind())
          .append(" } ]\n");
    } else {
      suggestions.add(new Suggestion("instance_group.count", "(not measured)",
          "only the configured count ran; --instances 1,2,4 tries others"));
    }
    return new ProfileAnalysis(knee, verdict, suggestions, config.toString());
  }

  private static String number(double v) {
    return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
  }

  static long nextPowerOfTwo(long n) {
    long p = 1;
    while (p < n) {
      p <<= 1;
    }
    return p;
  }

  static long nearestPowerOfTwo(double n) {
    if (n < 1.5) {
      return 1;
    }
    long below = Long.highestOneBit((long) n);
    return n - below < below * 2 - n ? below : below * 2;
  }
}
