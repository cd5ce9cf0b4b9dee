package io.junction.server.model;

import java.util.Collections;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * An immutable snapshot of one model: its versions' states, or a reason the model as a whole is not
 * available. Replaced as a whole on every change, so readers never see a half-made update.
 *
 * @param fingerprint the repository files this snapshot reflects (for a kept record: the files whose
 *     load failed, so that a poll tries again only when they change)
 * @param reloadFailure why the last reload failed while this snapshot went on serving; empty when it did not
 */
record ModelRecord(String name, Optional<String> modelFailure, NavigableMap<Long, VersionStatus> versions,
    String fingerprint, String reloadFailure) {
  ModelRecord {
    versions = Collections.unmodifiableNavigableMap(new TreeMap<>(versions));
  }

  ModelRecord(String name, Optional<String> modelFailure, NavigableMap<Long, VersionStatus> versions,
      String fingerprint) {
    this(name, modelFailure, versions, fingerprint, "");
  }

  /** This snapshot, still serving after a reload of {@code fingerprint}'s files failed for {@code reason}. */
  ModelRecord keptAfter(String fingerprint, String reason) {
    return new ModelRecord(name, modelFailure, versions, fingerprint, reason);
  }

  /**
   * A one-line account of why a load failed: the model's reason, or each failed version's, each naming the model (and
   * the version) once, whether or not the reason already did.
   */
  String failures() {
    if (modelFailure.isPresent()) {
      return namingModel(modelFailure.get(), "model '" + name + "'");
    }
    StringBuilder sb = new StringBuilder();
    versions.values().stream().filter(v -> v.state() == ModelState.UNAVAILABLE)
        .forEach(v -> sb.append(sb.length() == 0 ? "" : "; ")
            .append(namingModel(v.reason(), ServedModel.label(name, v.version()))));
    return sb.toString();
  }

  /** Most reasons start by naming the model, as backends and the repository word them; the others get {@code label}. */
  private String namingModel(String reason, String label) {
    return reason.startsWith("model '" + name + "'") ? reason : label + ": " + reason;
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

  /** Whether every version was taken out of service for one of {@code reasons} (and the model loaded fine). */
  boolean unloadedFor(Set<String> reasons) {
    return modelFailure.isEmpty() && !versions.isEmpty()
        && versions.values().stream().allMatch(v -> reasons.contains(v.reason()));
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
