package io.junction.loadtest.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** For drivers that measure each variant in a JVM of its own (a probe) and summarise the repetitions. */
final class Probes {
  private Probes() {}

  /** Runs a probe to completion; its one {@code result ...} line, split at spaces. */
  static String[] run(List<String> command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (p.waitFor() != 0) {
      throw new IllegalStateException("probe failed: " + out);
    }
    List<String> results = new ArrayList<>();
    for (String line : out.split("\n")) {
      if (line.startsWith("result ")) {
        results.add(line.strip());
      }
    }
    if (results.size() != 1) {
      throw new IllegalStateException("probe printed no result: " + out);
    }
    return results.get(0).split(" ");
  }

  static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }
}
