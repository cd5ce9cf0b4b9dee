package io.junction.server.model;

import java.util.Optional;

/** A model version's state, the reason for it, and the served instance when it is READY. */
record VersionStatus(long version, ModelState state, String reason, Optional<ServedModel> served) {
  static VersionStatus ready(ServedModel model) {
    return new VersionStatus(model.version(), ModelState.READY, "", Optional.of(model));
  }

  static VersionStatus failed(long version, String reason) {
    return new VersionStatus(version, ModelState.UNAVAILABLE, reason, Optional.empty());
  }
}
