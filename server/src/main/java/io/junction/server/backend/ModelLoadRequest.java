package io.junction.server.backend;

import io.junction.proto.inference.ModelConfig;
import io.junction.server.device.DeviceId;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * Everything a backend needs to load one model version.
 *
 * @param modelFile the model file inside the version directory, already checked to lie inside the
 *     model repository
 * @param config the model's config.pbtxt as written, if there is one; backends read their own
 *     parameters from it (e.g. thread counts)
 * @param device where this copy of the model runs; a model on several devices is loaded once per device
 */
public record ModelLoadRequest(String modelName, long version, Path modelFile, Optional<ModelConfig> config,
    DeviceId device) {
  public ModelLoadRequest {
    Objects.requireNonNull(modelName, "modelName");
    Objects.requireNonNull(modelFile, "modelFile");
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(device, "device");
  }

  /** A load onto the CPU. */
  public ModelLoadRequest(String modelName, long version, Path modelFile, Optional<ModelConfig> config) {
    this(modelName, version, modelFile, config, DeviceId.CPU);
  }
}
