package io.junction.server.drift;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Drift of one model version: a reference profile (bins and shares per feature, from a reference file or
 * frozen from the first requests) and a sliding window of the last {@code windowSize} calls' counts per
 * feature and bin, compared by PSI and (binned) Kolmogorov–Smirnov distance. Thread-safe; each call's
 * update is a few array additions under this tracker's lock.
 */
public final class DriftTracker {
  public enum State { COLLECTING, LOADING, READY, FAILED }

  /** One feature's drift now. */
  public record FeatureDrift(String name, boolean output, double psi, double ks) {}

  /**
   * @param reference where the reference came from
   * @param windowCalls calls in the window now (at most {@code windowSize})
   */
  public record Report(String model, long version, State state, String reference, long referenceCalls, int windowCalls,
      int windowSize, List<FeatureDrift> features) {}

  /** PSI at or above which a feature counts as drifted (the usual reading: below 0.1 none, 0.1–0.2 some). */
  static final double DRIFTED = 0.2;
  /** Reference values kept per feature for its bins. */
  private static final int MAX_REFERENCE_VALUES = 100_000;

  private final String model;
  private final long version;
  private final int windowSize;
  private final int referenceTarget;
  private State state;
  private String reference;
  private long referenceCalls;
  // while collecting: values per feature, in first-seen order, and which are outputs
  private final Map<String, double[]> collected = new LinkedHashMap<>();
  private final Map<String, Integer> collectedSize = new HashMap<>();
  private final Set<String> outputs = new HashSet<>();
  // when ready
  private List<String> names = List.of();
  private Map<String, Integer> index = Map.of();
  private Histogram[] bins = new Histogram[0];
  private long[][] live = new long[0][];
  private int[][][] ring;
  private int head;
  private int filled;

  /** @param referenceTarget calls to freeze the reference from; 0 when it comes from a file */
  DriftTracker(String model, long version, int windowSize, int referenceTarget, String reference) {
    this.model = model;
    this.version = version;
    this.windowSize = windowSize;
    this.referenceTarget = referenceTarget;
    this.reference = reference;
    this.state = referenceTarget > 0 ? State.COLLECTING : State.LOADING;
  }

  synchronized State state() {
    return state;
  }

  /** One reference call's samples (from the file, or a live call while collecting). */
  synchronized void addReference(List<Features.Sample> inputs, List<Features.Sample> outs) {
    add(inputs, false);
    add(outs, true);
    referenceCalls++;
  }

  private void add(List<Features.Sample> samples, boolean output) {
    for (Features.Sample s : samples) {
      double[] values = collected.computeIfAbsent(s.name(), n -> new double[1024]);
      int size = collectedSize.getOrDefault(s.name(), 0);
      for (double v : s.values()) {
        if (size >= MAX_REFERENCE_VALUES || Double.isNaN(v)) {
          break;
        }
        if (size == values.length) {
          values = Arrays.copyOf(values, values.length * 2);
          collected.put(s.name(), values);
        }
        values[size++] = v;
      }
      collectedSize.put(s.name(), size);
      if (output) {
        outputs.add(s.name());
      }
    }
  }

  /** Freezes the reference collected so far; live counting starts. */
  synchronized void ready(String source) {
    List<String> featureNames = new ArrayList<>();
    List<Histogram> histograms = new ArrayList<>();
    collected.forEach((name, values) -> {
      int size = collectedSize.get(name);
      if (size > 0) {
        featureNames.add(name);
        histograms.add(Histogram.of(Arrays.copyOf(values, size)));
      }
    });
    collected.clear();
    collectedSize.clear();
    names = List.copyOf(featureNames);
    Map<String, Integer> at = new HashMap<>();
    for (int i = 0; i < names.size(); i++) {
      at.put(names.get(i), i);
    }
    index = at;
    bins = histograms.toArray(Histogram[]::new);
    live = new long[bins.length][];
    for (int i = 0; i < bins.length; i++) {
      live[i] = new long[bins[i].bins()];
    }
    ring = new int[windowSize][][];
    reference = source;
    state = names.isEmpty() ? State.FAILED : State.READY;
  }

  synchronized void failed(String why) {
    reference = why;
    state = State.FAILED;
  }

  /** One live call. */
  void observe(List<Features.Sample> inputs, List<Features.Sample> outs) {
    State s = state();
    if (s == State.COLLECTING) {
      synchronized (this) {
        if (state == State.COLLECTING) {
          addReference(inputs, outs);
          if (referenceCalls >= referenceTarget) {
            ready("the first " + referenceTarget + " calls after the version loaded");
          }
        }
      }
      return;
    }
    if (s != State.READY) {
      return;
    }
    int[][] counts = new int[bins.length][];
    binInto(inputs, counts);
    binInto(outs, counts);
    synchronized (this) {
      int[][] evicted = ring[head];
      if (evicted != null) {
        apply(evicted, -1);
      }
      ring[head] = counts;
      apply(counts, 1);
      head = (head + 1) % windowSize;
      filled = Math.min(windowSize, filled + 1);
    }
  }

  private void binInto(List<Features.Sample> samples, int[][] counts) {
    for (Features.Sample sample : samples) {
      Integer i = index.get(sample.name());
      if (i == null) {
        continue; // a feature the reference did not have (e.g. a new output)
      }
      int[] c = new int[bins[i].bins()];
      for (double v : sample.values()) {
        if (!Double.isNaN(v)) {
          c[bins[i].bin(v)]++;
        }
      }
      counts[i] = c;
    }
  }

  private void apply(int[][] counts, int sign) {
    for (int i = 0; i < counts.length; i++) {
      if (counts[i] != null) {
        for (int b = 0; b < counts[i].length; b++) {
          live[i][b] += sign * counts[i][b];
        }
      }
    }
  }

  /** Drift now, features sorted by PSI, largest first. */
  synchronized Report report() {
    List<FeatureDrift> features = new ArrayList<>();
    if (state == State.READY) {
      for (int i = 0; i < names.size(); i++) {
        features.add(new FeatureDrift(names.get(i), outputs.contains(names.get(i)), bins[i].psi(live[i]), bins[i].ks(live[i])));
      }
      features.sort(Comparator.comparingDouble(FeatureDrift::psi).reversed());
    }
    return new Report(model, version, state, reference, referenceCalls, filled, windowSize, features);
  }
}
