package io.junction.server.model;

import java.util.Collections;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;

/**
 * An immutable snapshot of one model: its versions' states, or a reason the model as a whole is not
 * available. Replaced as a whole on every change, so readers never see a half-made update.
 */
record ModelRecord(String name, Optional<String> modelFailure, NavigableMap<Long, VersionStatus> versions) {
  ModelRecord {
    versions = Collections.unmodifiableNavigableMap(new TreeMap<>(versions));
  }

  static ModelRecord failed(String name, String reason) {
    return new ModelRecord(name, Optional.of(reason), new TreeMap<>());
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
