package io.junction.server.drift;

import java.util.Arrays;

/**
 * Fixed bins taken from a reference sample (its deciles; one bin per value when it has few distinct
 * values, e.g. classes), the reference's share in each, and the statistics comparing a live count.
 */
final class Histogram {
  static final int BINS = 10;
  /** Shares below this count as this: PSI is undefined for an empty bin. */
  private static final double FLOOR = 1e-4;

  private final double[] edges; // upper bounds of all but the last bin
  private final double[] reference;

  private Histogram(double[] edges, double[] reference) {
    this.edges = edges;
    this.reference = reference;
  }

  /** Bins from {@code sample} (not empty) and its shares in them. */
  static Histogram of(double[] sample) {
    double[] sorted = sample.clone();
    Arrays.sort(sorted);
    double[] distinct = Arrays.stream(sorted).distinct().toArray();
    double[] edges;
    if (distinct.length <= BINS) {
      // Discrete: a bin per value, bounded by the midpoints between them.
      edges = new double[distinct.length - 1];
      for (int i = 0; i < edges.length; i++) {
        edges[i] = (distinct[i] + distinct[i + 1]) / 2;
      }
    } else {
      edges = new double[BINS - 1];
      for (int i = 1; i < BINS; i++) {
        edges[i - 1] = sorted[(int) Math.min(sorted.length - 1, Math.round(i * (sorted.length - 1) / (double) BINS))];
      }
      edges = Arrays.stream(edges).distinct().toArray();
    }
    Histogram h = new Histogram(edges, new double[edges.length + 1]);
    for (double v : sample) {
      h.reference[h.bin(v)]++;
    }
    for (int i = 0; i < h.reference.length; i++) {
      h.reference[i] /= sample.length;
    }
    return h;
  }

  int bins() {
    return reference.length;
  }

  int bin(double v) {
    int i = Arrays.binarySearch(edges, v);
    return i >= 0 ? i : -i - 1;
  }

  /** Population stability index of the live counts against the reference: 0 for the same shares. */
  double psi(long[] live) {
    long total = Arrays.stream(live).sum();
    if (total == 0) {
      return 0;
    }
    double psi = 0;
    for (int i = 0; i < reference.length; i++) {
      double e = Math.max(FLOOR, reference[i]);
      double a = Math.max(FLOOR, live[i] / (double) total);
      psi += (a - e) * Math.log(a / e);
    }
    return psi;
  }

  /** Kolmogorov–Smirnov distance on the bins: the largest gap between the two cumulative shares. */
  double ks(long[] live) {
    long total = Arrays.stream(live).sum();
    if (total == 0) {
      return 0;
    }
    double ref = 0;
    double act = 0;
    double max = 0;
    for (int i = 0; i < reference.length; i++) {
      ref += reference[i];
      act += live[i] / (double) total;
      max = Math.max(max, Math.abs(ref - act));
    }
    return max;
  }
}
