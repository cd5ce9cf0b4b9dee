package io.junction.loadtest.profile;

import java.util.Locale;

/** The profile as a terminal shows it: a line per point as it is measured, then the verdict and the suggestions. */
final class ProfileText {
  private ProfileText() {}

  static String header() {
    return String.format(Locale.ROOT, "%-36s %5s %5s %10s %8s %8s %8s %8s %8s %6s %10s", "configuration", "batch",
        "conc", "infer/s", "p50 ms", "p95 ms", "p99 ms", "queue ms", "comp ms", "rows/x", "memory");
  }

  static String row(ProfilePoint p) {
    return String.format(Locale.ROOT, "%-36s %5d %5d %10.1f %8.2f %8.2f %8.2f %8.2f %8.2f %6.1f %10s%s",
        p.configuration(), p.batchSize(), p.concurrency(), p.inferencesPerSecond(), p.p50Ms(), p.p95Ms(), p.p99Ms(),
        p.queueMs(), p.computeMs(), p.meanExecutedBatch(), bytes(p.modelFootprintBytes()),
        p.failures() > 0 ? "  " + p.failures() + " failed" : "");
  }

  static String bytes(long b) {
    if (b < 0) {
      return "?";
    }
    return b >= 1 << 20 ? String.format(Locale.ROOT, "%.1f MiB", b / 1048576.0)
        : String.format(Locale.ROOT, "%.1f KiB", b / 1024.0);
  }

  static String summary(ProfileReport r) {
    StringBuilder s = new StringBuilder("\n").append(header()).append('\n');
    r.points().forEach(p -> s.append(row(p)).append('\n'));
    s.append("(queue/compute: the server's mean per request, from ModelStatistics; rows/x: rows per execution; "
        + "memory: the model's resident footprint measured at load)\n\n");
    s.append(r.analysis().verdict()).append('\n');
    for (ProfileAnalysis.Suggestion g : r.analysis().suggestions()) {
      s.append("  ").append(g.field()).append(": ").append(g.value()).append("  — ").append(g.why()).append('\n');
    }
    if (!r.analysis().config().isEmpty()) {
      s.append("\nconfig.pbtxt to start from:\n").append(r.analysis().config());
    }
    r.notes().forEach(n -> s.append("note: ").append(n).append('\n'));
    return s.toString();
  }
}
