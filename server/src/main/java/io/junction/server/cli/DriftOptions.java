package io.junction.server.cli;

import io.junction.server.drift.DriftMonitor;
import java.util.Optional;
import picocli.CommandLine.Option;

/** Whether and how input and output drift is watched. */
public final class DriftOptions {
  @Option(names = "--drift", defaultValue = "false", arity = "0..1", fallbackValue = "true", paramLabel = "BOOL",
      description = "Watch input and output drift of versions with a reference (reference.jsonl[.gz] in the version "
          + "directory, or --drift-reference-calls): PSI and KS on /metrics and /v2/models/NAME/drift "
          + "(default: ${DEFAULT-VALUE}).")
  boolean enabled;

  @Option(names = "--drift-reference-calls", defaultValue = "0", paramLabel = "N",
      description = "Freeze the reference of versions without a reference file from their first N calls (default: "
          + "${DEFAULT-VALUE}, only versions with a file are watched).")
  int referenceCalls;

  @Option(names = "--drift-window", defaultValue = "1000", paramLabel = "N",
      description = "Calls in the sliding window compared with the reference (default: ${DEFAULT-VALUE}).")
  int window;

  @Option(names = "--drift-top-k", defaultValue = "5", paramLabel = "K",
      description = "Input features per version exposed on /metrics, by PSI (default: ${DEFAULT-VALUE}).")
  int topK;

  /** The monitor's settings, or empty when drift is not watched. */
  public Optional<DriftMonitor.Settings> settings() {
    if (!enabled) {
      return Optional.empty();
    }
    if (referenceCalls < 0) {
      throw new IllegalArgumentException("--drift-reference-calls must be at least 0, got " + referenceCalls);
    }
    Positive.number("--drift-window", window);
    Positive.number("--drift-top-k", topK);
    return Optional.of(new DriftMonitor.Settings(referenceCalls, window, topK));
  }
}
