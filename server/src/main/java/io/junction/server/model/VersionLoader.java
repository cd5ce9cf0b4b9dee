package io.junction.server.model;

import io.junction.proto.inference.ModelConfig;
import io.junction.proto.inference.ModelInstanceGroup;
import io.junction.proto.inference.ModelOutput;
import io.junction.server.backend.Backend;
import io.junction.server.backend.BackendRegistry;
import io.junction.server.backend.LoadedModel;
import io.junction.server.backend.ModelLoadException;
import io.junction.server.backend.ModelLoadRequest;
import io.junction.server.device.DeviceId;
import io.junction.server.device.InstancePlacement;
import io.junction.server.repository.ModelDirectory;
import io.junction.server.repository.ModelRepository;
import io.junction.server.scheduling.BatchPolicy;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads one version of a model: its copies on the devices its instance groups place it on, its serving
 * config, warm-up, golden checks, labels and memory footprint. Which versions serve, and when they are
 * swapped, is {@link ModelManager}'s job; this class only turns files into a ready version or the reason
 * why not.
 */
final class VersionLoader {
  private static final Logger log = LoggerFactory.getLogger(VersionLoader.class);

  private final ModelRepository repository;
  private final BackendRegistry backends;
  private final ModelConfigResolver resolver;
  private final ProcessMemory memory;
  private final Set<DeviceId> devices;
  private volatile boolean autoWarmup;
  /**
   * The most each version (by "name/version/device") was measured to hold: the estimate for its next load. The
   * most, not the last, since a load that reuses memory the allocator kept from an unloaded model
   * measures less than it holds.
   */
  private final Map<String, Long> measured = new ConcurrentHashMap<>();

  VersionLoader(ModelRepository repository, BackendRegistry backends, ModelConfigResolver resolver,
      ProcessMemory memory, Set<DeviceId> devices) {
    this.repository = Objects.requireNonNull(repository, "repository");
    this.backends = Objects.requireNonNull(backends, "backends");
    this.resolver = Objects.requireNonNull(resolver, "resolver");
    this.memory = Objects.requireNonNull(memory, "memory");
    this.devices = Set.copyOf(devices);
  }

  /** Warm versions without {@code model_warmup} with zeros at their batch sizes before they take traffic. */
  void autoWarmup(boolean enabled) {
    this.autoWarmup = enabled;
  }

  /**
   * Bytes a load of the model is expected to hold on each device its instance groups place it on: per
   * version its policy selects, the most it was measured to hold there before, or at least the size of
   * its files. Empty when the model's files do not open (the load will fail and say why).
   */
  Map<DeviceId, Long> estimateBytes(String name, Optional<ModelConfig> config) {
    Map<DeviceId, Long> total = new TreeMap<>();
    try {
      ModelDirectory dir = repository.open(name, config);
      for (long v : dir.selectedVersions()) {
        Backend backend = backends.select(name, dir.config(), dir.path().resolve(Long.toString(v)));
        InstancePlacement placement = place(ServedModel.label(name, v),
            dir.config().map(ModelConfig::getInstanceGroupList).orElse(List.of()), backend);
        long files = repository.versionBytes(name, v);
        for (DeviceId device : placement.devices()) {
          total.merge(device, Math.max(files, measured.getOrDefault(key(name, v, device), 0L)), Long::sum);
        }
      }
    } catch (ModelLoadException e) {
      return Map.of();
    }
    return total;
  }

  /** Loads one version; a failure is returned as the version's reason, with what loaded of it closed. */
  VersionStatus load(ModelDirectory dir, long version) {
    String label = ServedModel.label(dir.name(), version);
    long start = System.nanoTime();
    List<ModelInstances> instances = new ArrayList<>();
    try {
      Path versionDir = dir.path().resolve(Long.toString(version));
      Backend backend = backends.select(dir.name(), dir.config(), versionDir);
      String fileName = dir.config().map(ModelConfig::getDefaultModelFilename).filter(f -> !f.isEmpty())
          .orElse(backend.defaultModelFilename());
      Path file = repository.versionFile(dir, version, fileName);
      List<ModelInstanceGroup> written = dir.config().map(ModelConfig::getInstanceGroupList).orElse(List.of());
      InstancePlacement placement = place(label, written, backend);
      // Loads are serialised, so the growth of resident memory is mostly this load's (requests to other
      // models running meanwhile add noise; the file size is the floor the budget counts).
      OptionalLong before = memory.residentBytes();
      for (Map.Entry<DeviceId, Integer> on : placement.instances().entrySet()) {
        LoadedModel copy = backend.load(new ModelLoadRequest(dir.name(), version, file, dir.config(), on.getKey()));
        instances.add(new ModelInstances(on.getKey(), copy, on.getValue()));
      }
      ModelConfig effective = resolver.resolve(label, dir.name(), dir.config(), instances.get(0).model().signature(),
          backend);
      checkBatching(label, effective);
      if (written.isEmpty() || written.stream().anyMatch(g -> g.getKind() == ModelInstanceGroup.Kind.KIND_AUTO)) {
        // Say where KIND_AUTO (or no group) put the instances; groups written out stay as written.
        effective = effective.toBuilder().clearInstanceGroup().addAllInstanceGroup(placement.asGroups()).build();
      }
      ServingSignature serving = ModelConfigResolver.servingSignature(label, effective);
      instances.replaceAll(copy -> new ModelInstances(copy.device(), ReshapedModel.of(serving, copy.model()),
          copy.count()));
      for (ModelInstances copy : instances) {
        Warmup.run(label + " on " + copy.device(), effective, copy.model(), autoWarmup);
      }
      GoldenGate.run(label, repository.goldenFiles(dir, version), serving, instances);
      OptionalLong after = memory.residentBytes();
      long grown = before.isPresent() && after.isPresent() ? Math.max(0, after.getAsLong() - before.getAsLong()) : 0;
      ServedModel served = new ServedModel(dir.name(), version, effective, serving, instances,
          labels(dir, label, effective));
      long millis = (System.nanoTime() - start) / 1_000_000;
      Footprint footprint = new Footprint(repository.versionBytes(dir.name(), version), grown);
      served.loaded(footprint, millis);
      for (ModelInstances copy : instances) {
        measured.merge(key(dir.name(), version, copy.device()), served.footprintOn(copy.device()), Math::max);
      }
      log.info("{} loaded with {} on {} in {} ms ({})", label, backend.name(), placement.instances(), millis, footprint);
      return VersionStatus.ready(served);
    } catch (ModelLoadException | RuntimeException e) {
      for (ModelInstances copy : instances) {
        copy.model().close();
      }
      // Reasons reach clients (RepositoryIndex): name files relative to the repository, not the host.
      String reason = (e instanceof ModelLoadException ? e.getMessage() : label + ": " + e)
          .replace(repository.root().toString(), "<model-repository>");
      if (e instanceof ModelLoadException) {
        log.debug("{}", reason);
      } else {
        log.error("{}", reason, e); // not a bad file but a fault of ours or the backend's: always worth a trace
      }
      return VersionStatus.failed(version, reason);
    }
  }

  /** The label files of the outputs that name one ({@code label_filename}), for the classification extension. */
  private Map<String, List<String>> labels(ModelDirectory dir, String label, ModelConfig effective)
      throws ModelLoadException {
    Map<String, List<String>> labels = new HashMap<>();
    for (ModelOutput output : effective.getOutputList()) {
      if (!output.getLabelFilename().isEmpty()) {
        labels.put(output.getName(), repository.labels(dir, label, output.getName(), output.getLabelFilename()));
      }
    }
    return labels;
  }

  /** A batching config its batcher would refuse fails the load here, rather than every call to the model later. */
  private static void checkBatching(String label, ModelConfig config) throws ModelLoadException {
    try {
      BatchPolicy.from(config, 1);
    } catch (IllegalArgumentException | ArithmeticException e) {
      throw new ModelLoadException(label + ": " + e.getMessage());
    }
  }

  private InstancePlacement place(String label, List<ModelInstanceGroup> written, Backend backend)
      throws ModelLoadException {
    try {
      return InstancePlacement.of(label, written, devices, backend.deviceKinds(), backend.name());
    } catch (InstancePlacement.UnplaceableException e) {
      throw new ModelLoadException(e.getMessage());
    }
  }

  private static String key(String name, long version, DeviceId device) {
    return name + "/" + version + "/" + device;
  }
}
