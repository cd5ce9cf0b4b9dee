package io.junction.server.scheduling;

import io.junction.server.device.Device;
import io.junction.server.device.DeviceDiscovery;
import io.junction.server.device.DeviceId;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The devices of this server, each with its own {@link DeviceScheduler}: executions of all models on a
 * device share that device's slots fairly, and one device's load never takes another's slots.
 */
public final class DeviceRegistry implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(DeviceRegistry.class);

  /** Executions at once per GPU when not configured: one computing while the next one's inputs copy in. */
  public static final int DEFAULT_GPU_SLOTS = 2;

  private final NavigableMap<DeviceId, Device> devices = new TreeMap<>();
  private final Map<DeviceId, DeviceScheduler> schedulers = new TreeMap<>();

  /**
   * @param devices the devices to schedule; the CPU is added when missing
   * @param cpuSlots executions at once on the CPU, over all models
   * @param gpuSlots executions at once on each GPU, over all models on it
   */
  public DeviceRegistry(List<Device> devices, int cpuSlots, int gpuSlots, PrometheusRegistry metrics) {
    if (gpuSlots < 1) {
      throw new IllegalArgumentException("gpuSlots must be positive, got " + gpuSlots);
    }
    this.devices.put(DeviceId.CPU, Device.cpu());
    for (Device d : devices) {
      if (this.devices.put(d.id(), d) != null && d.id().isGpu()) {
        throw new IllegalArgumentException("device " + d.id() + " is listed twice");
      }
    }
    for (DeviceId id : this.devices.keySet()) {
      schedulers.put(id, new DeviceScheduler(id.toString(), id.isGpu() ? gpuSlots : cpuSlots));
    }
    GaugeWithCallback.builder().name("junction_device_slots")
        .help("Model executions a device runs at once, over all models on it").labelNames("device")
        .callback(cb -> schedulers.forEach((id, s) -> cb.call(s.slots(), id.toString()))).register(metrics);
    GaugeWithCallback.builder().name("junction_device_running")
        .help("Model executions running on a device now").labelNames("device")
        .callback(cb -> schedulers.forEach((id, s) -> cb.call(s.running(), id.toString()))).register(metrics);
    GaugeWithCallback.builder().name("junction_device_info")
        .help("1 for each device the server schedules, with the name its driver gives it").labelNames("device", "name")
        .callback(cb -> this.devices.forEach((id, d) -> cb.call(1, id.toString(), d.name()))).register(metrics);
  }

  /** A registry of the CPU alone (tests, embedding). */
  public static DeviceRegistry cpuOnly(int cpuSlots) {
    return new DeviceRegistry(List.of(), cpuSlots, DEFAULT_GPU_SLOTS, new PrometheusRegistry());
  }

  /**
   * The devices the installed {@link DeviceDiscovery} providers find. A provider that fails (no driver,
   * native libraries missing, even a linkage error) is logged in one line and skipped: the server
   * carries on with the devices it has. Each provider that found devices registers their gauges in
   * {@code metrics}.
   */
  public static List<Device> discover(ClassLoader loader, PrometheusRegistry metrics) {
    List<Device> found = new ArrayList<>();
    ServiceLoader<DeviceDiscovery> providers = ServiceLoader.load(DeviceDiscovery.class, loader);
    for (ServiceLoader.Provider<DeviceDiscovery> provider : providers.stream().toList()) {
      String name = provider.type().getName();
      try {
        DeviceDiscovery discovery = provider.get();
        name = discovery.name();
        List<Device> devices = discovery.discover();
        log.info("{}: {} device(s) found{}", name, devices.size(), devices.isEmpty() ? "" : ": " + devices);
        found.addAll(devices);
        if (!devices.isEmpty()) {
          try {
            discovery.registerMetrics(metrics, devices);
          } catch (Exception | LinkageError e) {
            log.warn("{}: devices found, but no metrics of them ({})", name, e.toString());
          }
        }
      } catch (Exception | LinkageError e) {
        log.warn("{}: no devices ({}); carrying on without them", name, e.toString());
      }
    }
    return found;
  }

  /** Every device, the CPU first, GPUs by number. */
  public List<Device> devices() {
    return List.copyOf(devices.values());
  }

  public Set<DeviceId> ids() {
    return Collections.unmodifiableSet(devices.keySet());
  }

  public Optional<Device> device(DeviceId id) {
    return Optional.ofNullable(devices.get(id));
  }

  /** @throws IllegalArgumentException for a device this server does not have */
  public DeviceScheduler scheduler(DeviceId id) {
    DeviceScheduler s = schedulers.get(id);
    if (s == null) {
      throw new IllegalArgumentException("no device " + id + " (devices: " + devices.keySet() + ")");
    }
    return s;
  }

  /** Runs what was submitted to each device, then stops their threads. */
  @Override
  public void close() {
    schedulers.values().forEach(DeviceScheduler::close);
  }
}
