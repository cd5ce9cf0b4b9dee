package io.junction.server.backend;

import io.junction.proto.inference.ModelConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.stream.Collectors;

/** The backends available to this server, and the choice of one for a model. */
public final class BackendRegistry implements AutoCloseable {
  private final List<Backend> backends;

  public BackendRegistry(List<Backend> backends) {
    if (backends.isEmpty()) {
      throw new IllegalArgumentException("at least one backend is required");
    }
    this.backends = List.copyOf(backends);
  }

  /** Every backend on the class path. */
  public static BackendRegistry discover() {
    return new BackendRegistry(ServiceLoader.load(Backend.class).stream()
        .map(ServiceLoader.Provider::get).collect(Collectors.toList()));
  }

  public List<Backend> backends() {
    return backends;
  }

  /**
   * The backend for a model version: the one its config names ({@code backend}, else
   * {@code platform}); without either, the first whose default model file is in the version directory.
   */
  public Backend select(String modelName, Optional<ModelConfig> config, Path versionDir) throws ModelLoadException {
    if (config.isPresent()) {
      refuseUnservedScheduling(modelName, config.get());
    }
    if (config.isPresent() && !config.get().getBackend().isEmpty()) {
      String wanted = config.get().getBackend();
      return backends.stream().filter(b -> b.name().equals(wanted)).findFirst()
          .orElseThrow(() -> new ModelLoadException("model '" + modelName + "' asks for backend '" + wanted
              + "', which this server does not have (available: " + names() + ")"));
    }
    if (config.isPresent() && !config.get().getPlatform().isEmpty()) {
      String wanted = config.get().getPlatform();
      return backends.stream().filter(b -> b.platforms().contains(wanted)).findFirst()
          .orElseThrow(() -> new ModelLoadException("model '" + modelName + "' asks for platform '" + wanted
              + "', which no backend of this server serves (available: " + names() + ")"));
    }
    return backends.stream().filter(b -> Files.isRegularFile(versionDir.resolve(b.defaultModelFilename())))
        .findFirst()
        .orElseThrow(() -> new ModelLoadException("model '" + modelName + "': no model file in " + versionDir.getFileName()
            + " that a backend recognises (looked for " + backends.stream().map(Backend::defaultModelFilename)
                .collect(Collectors.joining(", ")) + ")"));
  }

  /**
   * Ensembles and stateful (sequence-batched) models need a scheduler Junction does not have; served as plain
   * models they would fail every call, or worse, answer without their sequence's state. They fail to load instead,
   * saying why, and the rest of the repository serves.
   */
  private static void refuseUnservedScheduling(String modelName, ModelConfig config) throws ModelLoadException {
    if (config.hasEnsembleScheduling() || config.getPlatform().equals("ensemble")) {
      throw new ModelLoadException("model '" + modelName + "' is an ensemble (platform 'ensemble', "
          + "ensemble_scheduling): Junction serves single models, not pipelines of them; call the steps' models "
          + "in turn, or export the pipeline as one ONNX model");
    }
    if (config.hasSequenceBatching()) {
      throw new ModelLoadException("model '" + modelName + "' sets sequence_batching: it is a stateful model, whose "
          + "requests need their sequence's state and control inputs from the server; Junction serves stateless "
          + "models only, and would answer these without that state");
    }
  }

  /** The backends' names, comma-separated, as the server's messages list them. */
  public String names() {
    return backends.stream().map(Backend::name).collect(Collectors.joining(", "));
  }

  @Override
  public void close() {
    backends.forEach(Backend::close);
  }
}
