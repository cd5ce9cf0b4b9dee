package io.junction.server.device;

import java.util.Objects;

/**
 * A device found on this machine.
 *
 * @param name what the driver calls it, e.g. {@code NVIDIA H200}
 * @param memoryBytes its memory, 0 where unknown (the CPU's is the process's memory budget's business)
 */
public record Device(DeviceId id, String name, long memoryBytes) {
  public Device {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(name, "name");
    if (memoryBytes < 0) {
      throw new IllegalArgumentException("memoryBytes must not be negative, got " + memoryBytes);
    }
  }

  public static Device cpu() {
    return new Device(DeviceId.CPU, "cpu", 0);
  }
}
