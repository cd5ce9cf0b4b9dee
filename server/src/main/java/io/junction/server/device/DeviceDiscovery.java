package io.junction.server.device;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.List;
import java.util.ServiceLoader;

/**
 * Finds devices of one kind on this machine (the CUDA device layer in {@code gpu-native} finds GPUs),
 * found with {@link ServiceLoader} like backends. The CPU is always there and needs none.
 * Implementations must not crash the process when their native libraries are missing: throw, and the
 * server logs one line and carries on without those devices.
 */
public interface DeviceDiscovery {
  /** What the devices are called in logs, e.g. {@code CUDA}. */
  String name();

  /** The devices found; empty when there are none. */
  List<Device> discover() throws Exception;

  /**
   * Registers gauges of what the devices found are doing (memory in use, utilisation), read when scraped;
   * called once after {@link #discover()} found {@code devices}. By default there are none.
   */
  default void registerMetrics(PrometheusRegistry registry, List<Device> devices) {}
}
