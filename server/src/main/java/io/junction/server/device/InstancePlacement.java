package io.junction.server.device;

import io.junction.proto.inference.ModelInstanceGroup;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Where a model version's instances run, from config.pbtxt's {@code instance_group}s, as Triton places
 * them:
 * <ul>
 *   <li>{@code KIND_CPU}: {@code count} instances on the CPU;</li>
 *   <li>{@code KIND_GPU} with {@code gpus: [0, 1]}: {@code count} instances on each listed GPU; without
 *       {@code gpus}, {@code count} on each GPU the server has;</li>
 *   <li>{@code KIND_AUTO}, or no instance group at all: as {@code KIND_GPU} when the server has GPUs and
 *       the backend runs on them, otherwise on the CPU;</li>
 *   <li>{@code KIND_MODEL}: the model decides; it is given the CPU.</li>
 * </ul>
 * A group that asks for a GPU the server does not have, or that the backend cannot run on, makes the
 * placement fail with that reason: a model meant for a GPU never runs on the CPU unnoticed.
 *
 * @param instances instances per device, in device order
 */
public record InstancePlacement(Map<DeviceId, Integer> instances) {
  public InstancePlacement {
    instances = Collections.unmodifiableMap(new TreeMap<>(instances));
    if (instances.isEmpty()) {
      throw new IllegalArgumentException("a placement needs at least one instance");
    }
  }

  /** A placement that failed, with the reason for RepositoryIndex and the log. */
  public static final class UnplaceableException extends Exception {
    private static final long serialVersionUID = 1L;

    public UnplaceableException(String message) {
      super(message);
    }
  }

  /**
   * @param label the model version, for messages
   * @param groups the config's instance groups as written (empty: none written)
   * @param available the devices the server has
   * @param backendKinds the kinds of device the model's backend runs on
   * @param backend the backend's name, for messages
   */
  public static InstancePlacement of(String label, List<ModelInstanceGroup> groups, Collection<DeviceId> available,
      Set<DeviceId.Kind> backendKinds, String backend) throws UnplaceableException {
    Set<DeviceId> all = new TreeSet<>(available); // in messages: cpu, gpu:0, gpu:1 ...
    Set<DeviceId> gpus = new TreeSet<>();
    available.stream().filter(DeviceId::isGpu).forEach(gpus::add);
    boolean gpuUsable = !gpus.isEmpty() && backendKinds.contains(DeviceId.Kind.GPU);
    Map<DeviceId, Integer> placed = new LinkedHashMap<>();
    List<ModelInstanceGroup> effective = groups.isEmpty()
        ? List.of(ModelInstanceGroup.newBuilder().setKind(ModelInstanceGroup.Kind.KIND_AUTO).setCount(1).build())
        : groups;
    for (ModelInstanceGroup g : effective) {
      int count = g.getCount() > 0 ? g.getCount() : 1;
      String name = g.getName().isEmpty() ? "" : " '" + g.getName() + "'";
      switch (g.getKind()) {
        case KIND_GPU -> {
          if (!backendKinds.contains(DeviceId.Kind.GPU)) {
            throw new UnplaceableException(label + ": instance_group" + name + " asks for KIND_GPU, but backend '"
                + backend + "' runs models on the CPU only in this build (GPUs need the gpu-native module or ONNX "
                + "Runtime's CUDA build); it is not run on the CPU instead");
          }
          List<DeviceId> targets = new ArrayList<>();
          if (g.getGpusCount() == 0) {
            if (gpus.isEmpty()) {
              throw new UnplaceableException(label + ": instance_group" + name + " asks for KIND_GPU, but this "
                  + "server has no GPU (devices: " + all + "); it is not run on the CPU instead");
            }
            targets.addAll(gpus);
          } else {
            for (int index : g.getGpusList()) {
              DeviceId id = index >= 0 ? DeviceId.gpu(index) : null;
              if (id == null || !gpus.contains(id)) {
                throw new UnplaceableException(label + ": instance_group" + name + " asks for GPU " + index
                    + ", which this server does not have (devices: " + all + ")");
              }
              targets.add(id);
            }
          }
          targets.forEach(id -> placed.merge(id, count, Integer::sum));
        }
        case KIND_AUTO -> {
          if (gpuUsable) {
            gpus.forEach(id -> placed.merge(id, count, Integer::sum));
          } else {
            placed.merge(DeviceId.CPU, count, Integer::sum);
          }
        }
        default -> placed.merge(DeviceId.CPU, count, Integer::sum); // KIND_CPU, KIND_MODEL
      }
    }
    return new InstancePlacement(placed);
  }

  public Set<DeviceId> devices() {
    return instances.keySet();
  }

  public int total() {
    return instances.values().stream().mapToInt(Integer::intValue).sum();
  }

  /** The placement as config.pbtxt would spell it: what ModelConfig reports as the effective groups. */
  public List<ModelInstanceGroup> asGroups() {
    List<ModelInstanceGroup> groups = new ArrayList<>();
    Optional.ofNullable(instances.get(DeviceId.CPU)).ifPresent(n -> groups.add(ModelInstanceGroup.newBuilder()
        .setKind(ModelInstanceGroup.Kind.KIND_CPU).setCount(n).build()));
    Map<Integer, List<Integer>> gpusByCount = new TreeMap<>();
    instances.forEach((id, n) -> {
      if (id.isGpu()) {
        gpusByCount.computeIfAbsent(n, k -> new ArrayList<>()).add(id.index());
      }
    });
    gpusByCount.forEach((n, indices) -> groups.add(ModelInstanceGroup.newBuilder()
        .setKind(ModelInstanceGroup.Kind.KIND_GPU).setCount(n).addAllGpus(indices).build()));
    return groups;
  }
}
