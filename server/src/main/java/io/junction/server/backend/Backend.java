package io.junction.server.backend;

import io.junction.server.device.DeviceId;
import java.util.ServiceLoader;
import java.util.Set;

/**
 * A model runtime that can load model files, found with {@link ServiceLoader} so that
 * backends in other modules (TensorRT in {@code gpu-native}) plug in without the server depending on
 * them. Implementations need a public no-argument constructor and must be thread-safe.
 */
public interface Backend extends AutoCloseable {
  /** The name used in config.pbtxt's {@code backend} field, e.g. {@code onnxruntime}. */
  String name();

  /** Values of config.pbtxt's {@code platform} field this backend serves, e.g. {@code onnxruntime_onnx}. */
  Set<String> platforms();

  /** The file looked for in a version directory when the config names none, e.g. {@code model.onnx}. */
  String defaultModelFilename();

  /**
   * The kinds of device this backend runs models on. A model whose instance groups place it elsewhere
   * (e.g. {@code KIND_GPU} on a CPU-only backend) fails to load with that reason, never runs elsewhere.
   */
  default Set<DeviceId.Kind> deviceKinds() {
    return Set.of(DeviceId.Kind.CPU);
  }

  /**
   * The keys of config.pbtxt's {@code parameters} this backend reads (e.g. ONNX Runtime's thread counts), so that a
   * key nothing reads can be told apart from a typo's and warned about.
   */
  default Set<String> modelParameters() {
    return Set.of();
  }

  /** Loads the model onto {@link ModelLoadRequest#device()}, one of the kinds {@link #deviceKinds()} names. */
  LoadedModel load(ModelLoadRequest request) throws ModelLoadException;

  /** Releases what the backend holds for all its models; called once at server shutdown. */
  @Override
  default void close() {}
}
