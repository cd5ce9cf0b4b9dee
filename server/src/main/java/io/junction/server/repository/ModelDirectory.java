package io.junction.server.repository;

import io.junction.proto.inference.ModelConfig;
import java.nio.file.Path;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * One model's directory as found on disk: its config.pbtxt (if any), the version directories present,
 * and the versions its policy selects.
 */
public record ModelDirectory(String name, Path path, Optional<ModelConfig> config,
    SortedSet<Long> availableVersions, SortedSet<Long> selectedVersions) {
  public ModelDirectory {
    availableVersions = new TreeSet<>(availableVersions);
    selectedVersions = new TreeSet<>(selectedVersions);
  }
}
