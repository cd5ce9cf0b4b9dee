package io.junction.server.status;

import io.junction.server.concurrent.NamedThreadFactory;
import io.junction.server.concurrent.Shutdown;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last minutes of each model's traffic for the status page: every {@code interval} (on the
 * {@code junction-status} thread, which it owns) it reads the server's metrics and keeps, per model, the
 * rate, error ratio, p50/p99 latency and mean batch size of the interval just ended, {@code points} of
 * them.
 */
public final class StatusHistory implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(StatusHistory.class);

  /**
   * One interval of one model.
   *
   * @param p50Millis median latency of the successful calls, NaN when there were none (also p99)
   * @param meanBatch rows per execution, NaN without executions
   */
  public record Point(long epochMillis, double requestsPerSecond, double errorRatio, double p50Millis,
      double p99Millis, double meanBatch) {}

  private final PrometheusRegistry registry;
  private final int points;
  private final Duration interval;
  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(new NamedThreadFactory("junction-status", true));
  private final Object lock = new Object();
  private final Map<String, ArrayDeque<Point>> series = new TreeMap<>();
  private MetricReadings previous;
  private volatile Map<String, double[]> shadowAgreement = Map.of();

  public StatusHistory(PrometheusRegistry registry, Duration interval, int points) {
    if (points < 1 || interval.isNegative() || interval.isZero()) {
      throw new IllegalArgumentException("a status history needs a positive interval and points");
    }
    this.registry = registry;
    this.points = points;
    this.interval = interval;
    this.previous = MetricReadings.scrape(registry, System.currentTimeMillis());
    timer.scheduleWithFixedDelay(this::sample, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
  }

  public Duration interval() {
    return interval;
  }

  /** Per model, its points, oldest first. */
  public Map<String, List<Point>> series() {
    Map<String, List<Point>> copy = new TreeMap<>();
    synchronized (lock) {
      series.forEach((model, s) -> copy.put(model, new ArrayList<>(s)));
    }
    return copy;
  }

  /** Per "route/shadow model", rows whose argmax agreed and did not, since start. */
  public Map<String, double[]> shadowAgreement() {
    return shadowAgreement;
  }

  private void sample() {
    try {
      MetricReadings now = MetricReadings.scrape(registry, System.currentTimeMillis());
      double seconds = Math.max(1e-3, (now.epochMillis() - previous.epochMillis()) / 1000.0);
      synchronized (lock) {
        now.models().forEach((model, c) -> {
          MetricReadings.ModelCounters before = previous.models().get(model);
          Point p = point(now.epochMillis(), seconds, c, before);
          ArrayDeque<Point> s = series.computeIfAbsent(model, k -> new ArrayDeque<>());
          s.addLast(p);
          while (s.size() > points) {
            s.pollFirst();
          }
        });
        series.keySet().removeIf(model -> !now.models().containsKey(model));
      }
      shadowAgreement = now.shadowAgreement();
      previous = now;
    } catch (RuntimeException e) {
      log.warn("status history: a sample failed; trying again at the next", e);
    }
  }

  private static Point point(long at, double seconds, MetricReadings.ModelCounters c,
      MetricReadings.ModelCounters before) {
    double success = c.success() - (before == null ? 0 : before.success());
    double failure = c.failure() - (before == null ? 0 : before.failure());
    double inferences = c.inferences() - (before == null ? 0 : before.inferences());
    double executions = c.executions() - (before == null ? 0 : before.executions());
    TreeMap<Double, Long> buckets = new TreeMap<>();
    c.latencyBuckets().forEach((bound, n) -> buckets.put(bound,
        n - (before == null ? 0 : before.latencyBuckets().getOrDefault(bound, 0L))));
    double total = success + failure;
    return new Point(at, total / seconds, total > 0 ? failure / total : 0, 1000 * quantile(buckets, 0.5),
        1000 * quantile(buckets, 0.99), executions > 0 ? inferences / executions : Double.NaN);
  }

  /** As PromQL's histogram_quantile: linear within the bucket the rank falls in; NaN without values. */
  static double quantile(TreeMap<Double, Long> perBucket, double q) {
    long total = perBucket.values().stream().mapToLong(Long::longValue).sum();
    if (total <= 0) {
      return Double.NaN;
    }
    double rank = q * total;
    double lower = 0;
    long below = 0;
    for (Map.Entry<Double, Long> b : perBucket.entrySet()) {
      long n = Math.max(0, b.getValue());
      if (below + n >= rank && n > 0) {
        double upper = b.getKey();
        if (Double.isInfinite(upper)) {
          return lower; // beyond the last finite bound: the bound is all that is known
        }
        return lower + (upper - lower) * (rank - below) / n;
      }
      below += n;
      if (!Double.isInfinite(b.getKey())) {
        lower = b.getKey();
      }
    }
    return lower;
  }

  @Override
  public void close() {
    Shutdown.now(timer, Duration.ofSeconds(10));
  }
}
