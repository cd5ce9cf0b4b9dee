package io.junction.server.config;

import io.junction.server.device.DeviceId;
import java.time.Duration;
import java.util.Collection;
import java.util.Collections;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * How models come and go, with Triton's modes.
 *
 * @param mode {@link Mode#NONE}: every model loads at start and the repository API cannot change them;
 *     {@link Mode#POLL}: every model loads at start and the repository is re-read every
 *     {@code pollInterval}; {@link Mode#EXPLICIT}: only {@code startupModels} load at start, then
 *     RepositoryModelLoad / RepositoryModelUnload decide
 * @param startupModels models to load at start in EXPLICIT mode; {@code *} means all
 * @param pollInterval how often POLL mode re-reads the repository
 * @param memoryBudgets per device ({@code cpu}, {@code gpu:0} ...), the bytes models placed on it may
 *     hold at once; empty for no budget. With a budget, models load on their first request and the least
 *     recently used idle ones on a device are unloaded to make room there
 * @param pinned models that load at start and are never unloaded to make room
 * @param autoWarmup warm models whose config has no {@code model_warmup} with zeros at their batch sizes
 * @param measureFootprints count a loaded model's memory by the growth of resident memory while it
 *     loaded (at least its file sizes); false: by its file sizes alone, which is deterministic but
 *     undercounts what a runtime builds from the files
 */
public record ModelControl(Mode mode, Set<String> startupModels, Duration pollInterval,
    Map<DeviceId, Long> memoryBudgets, Set<String> pinned, boolean autoWarmup, boolean measureFootprints) {
  public enum Mode { NONE, POLL, EXPLICIT }

  public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofSeconds(15);
  public static final ModelControl NONE =
      new ModelControl(Mode.NONE, Set.of(), DEFAULT_POLL_INTERVAL, Map.of(), Set.of(), false, true);

  public ModelControl {
    Objects.requireNonNull(mode, "mode");
    startupModels = Set.copyOf(startupModels);
    Objects.requireNonNull(pollInterval, "pollInterval");
    if (pollInterval.isNegative() || pollInterval.isZero()) {
      throw new IllegalArgumentException("pollInterval must be positive, got " + pollInterval);
    }
    if (mode != Mode.EXPLICIT && !startupModels.isEmpty()) {
      throw new IllegalArgumentException("--load-model needs --model-control-mode explicit");
    }
    memoryBudgets = Collections.unmodifiableMap(new TreeMap<>(memoryBudgets));
    memoryBudgets.forEach((device, bytes) -> {
      if (bytes <= 0) {
        throw new IllegalArgumentException("the memory budget of " + device + " must be positive, got " + bytes);
      }
    });
    pinned = Set.copyOf(pinned);
    if (!pinned.isEmpty() && memoryBudgets.isEmpty()) {
      throw new IllegalArgumentException("--pin-model needs --model-memory-budget: without a budget every model stays "
          + "loaded, and nothing is pinned");
    }
  }

  public ModelControl withAutoWarmup(boolean enabled) {
    return new ModelControl(mode, startupModels, pollInterval, memoryBudgets, pinned, enabled, measureFootprints);
  }

  /** Counts loaded models by their file sizes alone (see {@code measureFootprints}). */
  public ModelControl withFileFootprints() {
    return new ModelControl(mode, startupModels, pollInterval, memoryBudgets, pinned, autoWarmup, false);
  }

  public boolean hasBudget() {
    return !memoryBudgets.isEmpty();
  }

  /** A budget for the CPU alone. */
  public ModelControl withBudget(long cpuBytes, Set<String> pinnedModels) {
    return withBudgets(Map.of(DeviceId.CPU, cpuBytes), pinnedModels);
  }

  public ModelControl withBudgets(Map<DeviceId, Long> budgets, Set<String> pinnedModels) {
    return new ModelControl(mode, startupModels, pollInterval, budgets, pinnedModels, autoWarmup, measureFootprints);
  }

  /**
   * Parses {@code cpu=4g,gpu:0=70g} (k, m, g suffixes, powers of 1024; a plain number is bytes).
   *
   * @throws IllegalArgumentException naming what is wrong
   */
  public static Map<DeviceId, Long> parseBudgets(String text) {
    Map<DeviceId, Long> budgets = new TreeMap<>();
    for (String entry : text.split(",")) {
      String[] parts = entry.split("=", 2);
      DeviceId device;
      try {
        device = DeviceId.parse(parts[0]);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("--model-memory-budget must look like cpu=4g,gpu:0=70g, got '" + text + "'");
      }
      if (parts.length != 2) {
        throw new IllegalArgumentException("--model-memory-budget must look like cpu=4g,gpu:0=70g, got '" + text + "'");
      }
      if (budgets.put(device, parseSize(parts[1])) != null) {
        throw new IllegalArgumentException("--model-memory-budget names " + device + " twice: '" + text + "'");
      }
    }
    return budgets;
  }

  private static long parseSize(String text) {
    String v = text.trim().toLowerCase(Locale.ROOT);
    long unit = 1;
    if (v.endsWith("k") || v.endsWith("m") || v.endsWith("g")) {
      unit = switch (v.charAt(v.length() - 1)) {
        case 'k' -> 1L << 10;
        case 'm' -> 1L << 20;
        default -> 1L << 30;
      };
      v = v.substring(0, v.length() - 1);
    }
    try {
      long n = Long.parseLong(v);
      if (n <= 0) {
        throw new NumberFormatException();
      }
      return Math.multiplyExact(n, unit);
    } catch (NumberFormatException | ArithmeticException e) {
      throw new IllegalArgumentException("--model-memory-budget size must be a positive number of bytes with an "
          + "optional k, m or g, got '" + text + "'");
    }
  }

  public static ModelControl poll(Duration interval) {
    return new ModelControl(Mode.POLL, Set.of(), interval, Map.of(), Set.of(), false, true);
  }

  public static ModelControl explicit(Set<String> startupModels) {
    return new ModelControl(Mode.EXPLICIT, startupModels, DEFAULT_POLL_INTERVAL, Map.of(), Set.of(), false, true);
  }

  /** Whether the model of this name loads at start (with a budget: pinned and named ones only). */
  public boolean loadsAtStart(String model) {
    boolean named = startupModels.contains("*") || startupModels.contains(model);
    if (hasBudget()) {
      return pinned.contains(model) || (mode == Mode.EXPLICIT && named);
    }
    return mode != Mode.EXPLICIT || named;
  }

  /**
   * The start-up models ({@code --load-model}, {@code *} aside) that are none of {@code repositoryModels}: a misspelt
   * name would otherwise leave the server ready without the model. (Pinned ones are checked with the budget.)
   */
  public Set<String> startupModelsMissingFrom(Collection<String> repositoryModels) {
    Set<String> missing = new TreeSet<>(startupModels);
    missing.remove("*");
    missing.removeAll(repositoryModels);
    return missing;
  }

  /** Whether RepositoryModelLoad / RepositoryModelUnload may change what is loaded. */
  public boolean allowsRepositoryApi() {
    return mode == Mode.EXPLICIT;
  }
}
