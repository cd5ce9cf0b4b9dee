package io.junction.server.cli;

import io.junction.server.config.ModelControl;
import io.junction.server.device.DeviceId;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import picocli.CommandLine.Option;

/** Which models load when, and how many fit at once (Triton's model control modes, and a memory budget). */
public final class ModelControlOptions {
  /** How a loaded model counts against a memory budget. */
  public enum Footprint { MEASURED, FILES }

  @Option(names = "--model-control-mode", defaultValue = "none", paramLabel = "none|poll|explicit",
      description = "none: load every model at start, no load/unload API (default); poll: also re-read the "
          + "repository every --repository-poll-secs; explicit: load --load-model models, then the load/unload API decides.")
  ModelControl.Mode mode;

  @Option(names = "--load-model", paramLabel = "NAME", split = ",",
      description = "In explicit mode, a model to load at start (repeatable or comma-separated; * for all).")
  List<String> loadModels = new ArrayList<>();

  @Option(names = "--repository-poll-secs", defaultValue = "15", paramLabel = "N",
      description = "Seconds between repository polls in poll mode (default: ${DEFAULT-VALUE}).")
  long pollSeconds;

  @Option(names = "--model-memory-budget", paramLabel = "DEVICE=SIZE,...",
      description = "Bytes of models loaded at once per device, e.g. cpu=4g,gpu:0=70g: models load on first request "
          + "and the least recently used idle ones on a device are unloaded to make room there (default: no "
          + "budget).")
  String memoryBudget;

  @Option(names = "--model-footprint", defaultValue = "measured", paramLabel = "measured|files",
      description = "How the memory budget counts a loaded model: measured (growth of resident memory while it "
          + "loaded and warmed up, at least its file sizes) or files (file sizes alone; deterministic, but less "
          + "than a runtime builds from them). Default: ${DEFAULT-VALUE}.")
  Footprint footprint;

  @Option(names = "--pin-model", paramLabel = "NAME", split = ",",
      description = "With a memory budget: a model loaded at start and never unloaded to make room (repeatable or "
          + "comma-separated).")
  List<String> pinnedModels = new ArrayList<>();

  @Option(names = "--model-warmup-auto", defaultValue = "false", arity = "0..1", fallbackValue = "true",
      paramLabel = "BOOL", description = "Warm models without model_warmup in config.pbtxt with zeros at their batch "
          + "sizes before they take traffic (default: ${DEFAULT-VALUE}).")
  boolean autoWarmup;

  public ModelControl control() {
    Positive.number("--repository-poll-secs", pollSeconds);
    Map<DeviceId, Long> budget = memoryBudget == null ? Map.of() : ModelControl.parseBudgets(memoryBudget);
    return new ModelControl(mode, Set.copyOf(loadModels), Duration.ofSeconds(pollSeconds), budget,
        Set.copyOf(pinnedModels), autoWarmup, footprint == Footprint.MEASURED);
  }
}
