package io.junction.loadtest;

import java.io.PrintWriter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * The outcome of a run, with ghz's JSON field names and units (durations in nanoseconds) so tools that
 * read ghz's report read ours, and a terminal summary in ghz's layout.
 */
final class Report {
  /** ghz's seven, as integers (its report types them so); 99.9 goes in {@link #latencyDistributionExtra}. */
  private static final int[] PERCENTILES = {10, 25, 50, 75, 90, 95, 99};
  private static final int HISTOGRAM_BUCKETS = 10;

  final String date = Instant.now().toString();
  /** ghz's: why the run ended ("normal", or "timeout" when it ran for a duration). */
  String endReason = "normal";
  long count;
  long total;
  long average;
  long fastest;
  long slowest;
  double rps;
  List<Map<String, Object>> latencyDistribution = new ArrayList<>();
  /** Junction's addition: percentiles beyond ghz's seven (99.9). */
  List<Map<String, Object>> latencyDistributionExtra = new ArrayList<>();
  List<Map<String, Object>> histogram = new ArrayList<>();
  /** Junction's addition: the latency histogram in buckets growing by √2 (upper bound in ns, count), for log-scale charts. */
  List<Map<String, Object>> logHistogram = new ArrayList<>();
  Map<String, Long> statusCodeDistribution = new LinkedHashMap<>();
  Map<String, Long> errorDistribution = new LinkedHashMap<>();
  /** Junction's addition: how late the latest-starting request of an --rps run started after its scheduled time. */
  Long pacingErrorNs;
  /** Junction's addition: the p99 of how late the requests of an --rps run started. */
  Long pacingErrorP99Ns;
  /** Junction's addition: answers per variant when the model was a route. */
  Map<String, Long> variants = new LinkedHashMap<>();
  /** Junction's addition: per second of the run, answers and their p50/p99 latency (ns). */
  List<Map<String, Object>> series = new ArrayList<>();
  /** Junction's addition: calls started in each second of an --rps run (shows a schedule's steps). */
  List<Map<String, Object>> timeline = new ArrayList<>();
  /** Junction's addition for --scenario spike: error rates and p99 recovery. */
  SpikeAnalysis spike;
  Map<String, Object> options = new LinkedHashMap<>();
  /** ghz's: every call (with -O json): timestamp, latency (ns), error, status. Empty otherwise. */
  List<Map<String, Object>> details = new ArrayList<>();

  static Report of(Histogram latencies, long totalNanos, Map<String, Long> codes, Map<String, Long> errors) {
    Report r = new Report();
    r.count = codes.values().stream().mapToLong(Long::longValue).sum();
    r.total = totalNanos;
    r.statusCodeDistribution.putAll(codes);
    r.errorDistribution.putAll(errors);
    r.rps = totalNanos == 0 ? 0 : r.count / (totalNanos / 1e9);
    if (latencies.getTotalCount() > 0) {
      r.average = (long) latencies.getMean();
      r.fastest = latencies.getMinValue();
      r.slowest = latencies.getMaxValue();
      for (int p : PERCENTILES) {
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("percentage", p);
        entry.put("latency", latencies.getValueAtPercentile(p));
        r.latencyDistribution.add(entry);
      }
      Map<String, Object> extra = new LinkedHashMap<>();
      extra.put("percentage", 99.9);
      extra.put("latency", latencies.getValueAtPercentile(99.9));
      r.latencyDistributionExtra.add(extra);
      long width = Math.max(1, (r.slowest - r.fastest) / HISTOGRAM_BUCKETS);
      long[] counts = new long[HISTOGRAM_BUCKETS];
      for (var v : latencies.recordedValues()) {
        int bucket = (int) Math.min(HISTOGRAM_BUCKETS - 1, Math.max(0, (v.getValueIteratedTo() - r.fastest) / width));
        counts[bucket] += v.getCountAtValueIteratedTo();
      }
      for (int b = 0; b < HISTOGRAM_BUCKETS; b++) {
        long mark = b == HISTOGRAM_BUCKETS - 1 ? r.slowest : r.fastest + (b + 1) * width;
        Map<String, Object> bucket = new LinkedHashMap<>();
        bucket.put("mark", mark / 1e9);
        bucket.put("count", counts[b]);
        bucket.put("frequency", (double) counts[b] / latencies.getTotalCount());
        r.histogram.add(bucket);
      }
      // Buckets from 10 µs growing by √2 to the slowest call: every latency, fast or slow, gets its own resolution.
      double upper = 10_000;
      long below = 0;
      while (below < latencies.getTotalCount()) {
        long upTo = latencies.getCountBetweenValues(0, (long) upper);
        if (upTo > 0) { // from the fastest call's bucket on
          Map<String, Object> bucket = new LinkedHashMap<>();
          bucket.put("le", (long) upper);
          bucket.put("count", upTo - below);
          r.logHistogram.add(bucket);
        }
        below = upTo;
        upper *= Math.sqrt(2);
      }
    }
    return r;
  }

  void printSummary(PrintWriter out) {
    out.println();
    out.println("Summary:");
    out.printf("  Count:\t%d%n", count);
    out.printf("  Total:\t%s%n", duration(total));
    out.printf("  Slowest:\t%s%n", duration(slowest));
    out.printf("  Fastest:\t%s%n", duration(fastest));
    out.printf("  Average:\t%s%n", duration(average));
    out.printf("  Requests/sec:\t%.2f%n", rps);
    if (pacingErrorNs == null) {
      out.println("  (closed loop: callers wait for answers, so these percentiles hide stalls — coordinated omission; "
          + "use --rps for latency at a given load)");
    }
    if (pacingErrorNs != null) {
      out.printf("  Pacing error:\t%s worst, %s p99 (how late requests started after their scheduled time)%n",
          duration(pacingErrorNs), duration(pacingErrorP99Ns == null ? 0 : pacingErrorP99Ns));
    }
    if (spike != null) {
      out.println();
      out.println("Spike:");
      out.printf("  Errors:\t%.2f %% before, %.2f %% during, %.2f %% after%n", 100 * spike.errorRateBefore(),
          100 * spike.errorRateDuring(), 100 * spike.errorRateAfter());
      out.printf("  p99:\t%.2f ms before, %.2f ms worst%n", spike.p99BeforeMs(), spike.worstP99Ms());
      out.printf("  Recovered:\t%s%n", spike.recoverySeconds() < 0 ? "not within the run"
          : spike.recoverySeconds() + " s after the spike ended (p99 back within 2x of before)");
    }
    out.println();
    out.println("Response time histogram:");
    long max = histogram.stream().mapToLong(b -> (Long) b.get("count")).max().orElse(1);
    for (Map<String, Object> b : histogram) {
      long n = (Long) b.get("count");
      out.printf("  %.3f [%d]\t|%s%n", (Double) b.get("mark") * 1000, n, "∎".repeat((int) (40 * n / Math.max(1, max))));
    }
    out.println();
    out.println("Latency distribution:");
    for (Map<String, Object> p : latencyDistribution) {
      out.printf("  %s %% in %s%n", p.get("percentage"), duration((Long) p.get("latency")));
    }
    for (Map<String, Object> p : latencyDistributionExtra) {
      out.printf("  %s %% in %s%n", p.get("percentage"), duration((Long) p.get("latency")));
    }
    if (!variants.isEmpty()) {
      out.println();
      out.println("Variant distribution:");
      variants.forEach((v, n) -> out.printf("  [%s]\t%d responses%n", v, n));
    }
    out.println();
    out.println("Status code distribution:");
    statusCodeDistribution.forEach((code, n) -> out.printf("  [%s]\t%d responses%n", code, n));
    if (!errorDistribution.isEmpty()) {
      out.println();
      out.println("Error distribution:");
      errorDistribution.forEach((error, n) -> out.printf("  [%d]\t%s%n", n, error));
    }
    out.flush();
  }

  private static String duration(long nanos) {
    if (nanos >= TimeUnit.SECONDS.toNanos(1)) {
      return String.format("%.2f s", nanos / 1e9);
    }
    return String.format("%.2f ms", nanos / 1e6);
  }
}
