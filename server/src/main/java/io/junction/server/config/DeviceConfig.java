package io.junction.server.config;

import io.junction.server.device.Device;
import java.util.List;
import java.util.Optional;

/**
 * The devices a server schedules.
 *
 * @param gpuSlots model executions at once on each GPU, over all models on it
 * @param declared devices to use instead of asking the installed discoveries (tests declare fake GPUs
 *     this way); empty: discover them
 */
public record DeviceConfig(int gpuSlots, Optional<List<Device>> declared) {
  public static final int DEFAULT_GPU_SLOTS = 2;
  public static final DeviceConfig DISCOVER = new DeviceConfig(DEFAULT_GPU_SLOTS, Optional.empty());

  public DeviceConfig {
    if (gpuSlots < 1) {
      throw new IllegalArgumentException("GPU execution slots (--gpu-slots) must be at least 1, got " + gpuSlots);
    }
    declared = declared.map(List::copyOf);
  }

  /** These devices (the CPU is always added), not the discovered ones. */
  public static DeviceConfig of(List<Device> devices) {
    return new DeviceConfig(DEFAULT_GPU_SLOTS, Optional.of(devices));
  }
}
