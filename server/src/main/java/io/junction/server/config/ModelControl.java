package io.junction.server.config;

import java.time.Duration;
import java.util.Objects;
import java.util.Set;

/**
 * How models come and go, with Triton's modes.
 *
 * @param mode {@link Mode#NONE}: every model loads at start and the repository API cannot change them;
 *     {@link Mode#POLL}: every model loads at start and the repository is re-read every
 *     {@code pollInterval}; {@link Mode#EXPLICIT}: only {@code startupModels} load at start, then
 *     RepositoryModelLoad / RepositoryModelUnload decide
 * @param startupModels models to load at start in EXPLICIT mode; {@code *} means all
 * @param pollInterval how often POLL mode re-reads the repository
 */
public record ModelControl(Mode mode, Set<String> startupModels, Duration pollInterval) {
  public enum Mode { NONE, POLL, EXPLICIT }

  public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofSeconds(15);
  public static final ModelControl NONE = new ModelControl(Mode.NONE, Set.of(), DEFAULT_POLL_INTERVAL);
  public static final ModelControl EXPLICIT_NOTHING = new ModelControl(Mode.EXPLICIT, Set.of(), DEFAULT_POLL_INTERVAL);

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
  }

  public static ModelControl poll(Duration interval) {
    return new ModelControl(Mode.POLL, Set.of(), interval);
  }

  public static ModelControl explicit(Set<String> startupModels) {
    return new ModelControl(Mode.EXPLICIT, startupModels, DEFAULT_POLL_INTERVAL);
  }

  /** Whether the model of this name loads at start. */
  public boolean loadsAtStart(String model) {
    return mode != Mode.EXPLICIT || startupModels.contains("*") || startupModels.contains(model);
  }

  /** Whether RepositoryModelLoad / RepositoryModelUnload may change what is loaded. */
  public boolean allowsRepositoryApi() {
    return mode == Mode.EXPLICIT;
  }
}
