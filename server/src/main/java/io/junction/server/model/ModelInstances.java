package io.junction.server.model;

import io.junction.server.backend.LoadedModel;
import io.junction.server.device.DeviceId;
import java.util.Objects;

/**
 * A model version's copy on one device and how many of its executions may run there at once
 * (config.pbtxt's instance count on that device).
 */
public record ModelInstances(DeviceId device, LoadedModel model, int count) {
  public ModelInstances {
    Objects.requireNonNull(device, "device");
    Objects.requireNonNull(model, "model");
    if (count < 1) {
      throw new IllegalArgumentException("count must be positive, got " + count);
    }
  }
}
