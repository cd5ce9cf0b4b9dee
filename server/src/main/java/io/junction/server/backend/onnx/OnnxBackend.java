package io.junction.server.backend.onnx;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.junction.proto.inference.ModelConfig;
import io.junction.proto.inference.ModelParameter;
import io.junction.server.backend.Backend;
import io.junction.server.backend.LoadedModel;
import io.junction.server.backend.ModelLoadException;
import io.junction.server.backend.ModelLoadRequest;
import io.junction.server.backend.ModelSignature;
import io.junction.server.backend.TensorSpec;
import io.junction.server.device.DeviceId;
import io.junction.server.tensor.DataType;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Runs ONNX models with ONNX Runtime's Java API: on the CPU, and on GPUs through the CUDA execution
 * provider when the ONNX Runtime on the class path has it ({@code onnxruntime_gpu}, the build's {@code -Pgpu}
 * profile). Without it, a model placed on a GPU fails to load with that reason, never runs on the CPU.
 *
 * <p>Each model version gets its own session. By default a session uses one intra-op thread: the
 * server already runs requests of many models in parallel on its own executor, and on small models
 * ONNX Runtime's thread pool costs more than it gives. A model that wants more sets Triton's ONNX
 * Runtime backend parameters in its config.pbtxt: {@code intra_op_thread_count},
 * {@code inter_op_thread_count}.
 */
public final class OnnxBackend implements Backend {
  public static final String NAME = "onnxruntime";
  static final String INTRA_OP_THREADS = "intra_op_thread_count";
  static final String INTER_OP_THREADS = "inter_op_thread_count";
  private static final Set<String> PARAMETERS = Set.of(INTRA_OP_THREADS, INTER_OP_THREADS);

  private final OrtEnvironment environment;
  /** Whether this ONNX Runtime build has the CUDA execution provider. */
  private final boolean cuda;

  public OnnxBackend() {
    if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
      // Tensor bytes travel little-endian and are handed to ONNX Runtime in place.
      throw new IllegalStateException("the ONNX Runtime backend needs a little-endian platform");
    }
    // ONNX Runtime keeps one environment per process; it is shared, never closed by us.
    this.environment = OrtEnvironment.getEnvironment();
    this.cuda = OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA);
  }

  @Override
  public Set<DeviceId.Kind> deviceKinds() {
    return cuda ? Set.of(DeviceId.Kind.CPU, DeviceId.Kind.GPU) : Set.of(DeviceId.Kind.CPU);
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Set<String> platforms() {
    return Set.of("onnxruntime_onnx");
  }

  @Override
  public String defaultModelFilename() {
    return "model.onnx";
  }

  @Override
  public Set<String> modelParameters() {
    return PARAMETERS;
  }

  @Override
  public LoadedModel load(ModelLoadRequest request) throws ModelLoadException {
    String label = "model '" + request.modelName() + "' version " + request.version()
        + (request.device().isGpu() ? " on " + request.device() : "");
    if (!Files.isRegularFile(request.modelFile())) {
      throw new ModelLoadException(label + ": model file " + request.modelFile().getFileName() + " is missing");
    }
    OrtSession session = null;
    try (OrtSession.SessionOptions options = sessionOptions(request.config(), label)) {
      ExecutionProviders.add(options, request.config(), request.device(), label);
      session = environment.createSession(request.modelFile().toString(), options);
      ModelSignature signature = new ModelSignature(
          specs(label, "input", session.getInputInfo()), specs(label, "output", session.getOutputInfo()));
      return new OnnxLoadedModel(label, environment, session, signature);
    } catch (OrtException e) {
      closeQuietly(session);
      throw new ModelLoadException(label + ": ONNX Runtime cannot load " + request.modelFile().getFileName() + ": "
          + e.getMessage(), e);
    } catch (ModelLoadException | RuntimeException e) {
      closeQuietly(session);
      throw e;
    }
  }

  private static OrtSession.SessionOptions sessionOptions(Optional<ModelConfig> config, String label)
      throws OrtException, ModelLoadException {
    OrtSession.SessionOptions options = new OrtSession.SessionOptions();
    try {
      options.setOptimizationLevel(ExecutionProviders.graphLevel(config));
      options.setIntraOpNumThreads(threadParameter(config, INTRA_OP_THREADS, 1, label));
      options.setInterOpNumThreads(threadParameter(config, INTER_OP_THREADS, 1, label));
      return options;
    } catch (OrtException | ModelLoadException | RuntimeException e) {
      options.close();
      throw e;
    }
  }

  private static int threadParameter(Optional<ModelConfig> config, String key, int fallback, String label)
      throws ModelLoadException {
    Map<String, ModelParameter> parameters = config.map(ModelConfig::getParametersMap).orElse(Map.of());
    ModelParameter value = parameters.get(key);
    if (value == null) {
      return fallback;
    }
    try {
      int threads = Integer.parseInt(value.getStringValue().trim());
      if (threads < 0) {
        throw new NumberFormatException();
      }
      return threads; // 0 lets ONNX Runtime choose, as in Triton's backend
    } catch (NumberFormatException e) {
      throw new ModelLoadException(label + ": parameter " + key + " must be a non-negative integer, got '"
          + value.getStringValue() + "'");
    }
  }

  private static List<TensorSpec> specs(String label, String kind, Map<String, NodeInfo> infos)
      throws ModelLoadException {
    List<TensorSpec> specs = new ArrayList<>(infos.size());
    for (NodeInfo node : infos.values()) {
      if (!(node.getInfo() instanceof TensorInfo tensor)) {
        throw new ModelLoadException(label + ": " + kind + " '" + node.getName() + "' is a "
            + node.getInfo().getClass().getSimpleName() + ", only tensors are served");
      }
      DataType type = OnnxTypes.toDataType(tensor.onnxType).orElseThrow(() -> new ModelLoadException(
          label + ": " + kind + " '" + node.getName() + "' is " + OnnxTypes.onnxName(tensor.onnxType)
              + ", which ONNX Runtime's Java API cannot exchange"));
      specs.add(new TensorSpec(node.getName(), type, tensor.getShape()));
    }
    return specs;
  }

  private static void closeQuietly(OrtSession session) {
    if (session != null) {
      try {
        session.close();
      } catch (OrtException ignored) {
        // the load already failed; its reason is what matters
      }
    }
  }
}
