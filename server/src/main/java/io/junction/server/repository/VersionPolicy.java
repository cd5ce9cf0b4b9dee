package io.junction.server.repository;

import io.junction.proto.inference.ModelVersionPolicy;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/** Which of a model's version directories are served, as Triton's {@code version_policy} says. */
public sealed interface VersionPolicy {
  /** Triton's default: the newest version only. */
  VersionPolicy DEFAULT = new Latest(1);

  SortedSet<Long> select(SortedSet<Long> available);

  /** The {@code n} highest versions. */
  record Latest(int count) implements VersionPolicy {
    public Latest {
      if (count < 1) {
        throw new IllegalArgumentException("version_policy latest num_versions must be at least 1, got " + count);
      }
    }

    @Override
    public SortedSet<Long> select(SortedSet<Long> available) {
      TreeSet<Long> chosen = new TreeSet<>();
      for (Long v : ((TreeSet<Long>) new TreeSet<>(available)).descendingSet()) {
        if (chosen.size() == count) {
          break;
        }
        chosen.add(v);
      }
      return chosen;
    }
  }

  /** Every version present. */
  record All() implements VersionPolicy {
    @Override
    public SortedSet<Long> select(SortedSet<Long> available) {
      return new TreeSet<>(available);
    }
  }

  /** The listed versions that are present. */
  record Specific(Set<Long> versions) implements VersionPolicy {
    public Specific {
      versions = Set.copyOf(versions);
    }

    @Override
    public SortedSet<Long> select(SortedSet<Long> available) {
      TreeSet<Long> chosen = new TreeSet<>(available);
      chosen.retainAll(versions);
      return chosen;
    }
  }

  static VersionPolicy from(ModelVersionPolicy policy) {
    return switch (policy.getPolicyChoiceCase()) {
      case LATEST -> new Latest(Math.max(1, policy.getLatest().getNumVersions()));
      case ALL -> new All();
      case SPECIFIC -> new Specific(Set.copyOf(policy.getSpecific().getVersionsList()));
      case POLICYCHOICE_NOT_SET -> DEFAULT;
    };
  }
}
