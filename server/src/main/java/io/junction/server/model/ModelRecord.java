package io.junction.server.model;

import java.util.Collections;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;

/**
 * An immutable snapshot of one model: its versions' states, or a reason the model as a whole is not
 * available. Replaced as a whole on every change, so readers never see a half-made update.
 */
record ModelRecord(String name, Optional<String> modelFailure, NavigableMap<Long, VersionStatus> versions,
    String fingerprint) {
  ModelRecord {
    versions = Collections.unmodifiableNavigableMap(new TreeMap<>(versions));
  }

  static ModelRecord failed(String name, String reason, String fingerprint) {
    return new ModelRecord(name, Optional.of(reason), new TreeMap<>(), fingerprint);
  }

  /** Whether a load of it failed (for the model or a version), so that a poll tries again. */
  boolean hasFailures() {
    return modelFailure.isPresent() || versions.values().stream()
        .anyMatch(v -> v.state() == ModelState.UNAVAILABLE && !ModelManager.UNLOADED.equals(v.reason())
            && !ModelManager.EVICTED.equals(v.reason()));
  }

  /** The newest READY version, if any. */
  Optional<ServedModel> newestReady() {
    for (VersionStatus v : versions.descendingMap().values()) {
      if (v.served().isPresent()) {
        return v.served();
      }
    }
    return Optional.empty();
  }

  boolean anyReady() {
    return newestReady().isPresent();
  }
}
