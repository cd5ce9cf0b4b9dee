package io.junction.server.backend.onnx;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import io.junction.proto.inference.ModelConfig;
import io.junction.proto.inference.ModelOptimizationPolicy.ExecutionAccelerators.Accelerator;
import io.junction.proto.inference.ModelOptimizationPolicy;
import io.junction.server.backend.ModelLoadException;
import io.junction.server.device.DeviceId;
import java.util.List;
import java.util.Optional;
import org.slf4j.LoggerFactory;

/**
 * Triton's {@code optimization} for ONNX Runtime: the graph optimization level, and the execution
 * providers in Triton's order of priority — on a GPU instance the {@code gpu_execution_accelerator}s
 * ({@code tensorrt}), then CUDA; on the CPU the {@code cpu_execution_accelerator}s ({@code openvino}), then
 * ONNX Runtime's default. An accelerator this ONNX Runtime build lacks is a warning, and the model runs on
 * the providers it has (a repository written for a Triton with OpenVINO still loads); a name that is no
 * accelerator at all fails the load, as a typo should.
 */
final class ExecutionProviders {
  private static final org.slf4j.Logger log = LoggerFactory.getLogger(ExecutionProviders.class);

  private ExecutionProviders() {}

  static OrtSession.SessionOptions.OptLevel graphLevel(Optional<ModelConfig> config) {
    int level = config.map(c -> c.getOptimization().getGraph().getLevel()).orElse(0);
    if (level < 0) {
      return OrtSession.SessionOptions.OptLevel.BASIC_OPT;
    }
    return level == 1 ? OrtSession.SessionOptions.OptLevel.EXTENDED_OPT : OrtSession.SessionOptions.OptLevel.ALL_OPT;
  }

  static void add(OrtSession.SessionOptions options, Optional<ModelConfig> config, DeviceId device, String label)
      throws OrtException, ModelLoadException {
    ModelOptimizationPolicy.ExecutionAccelerators accelerators = config
        .map(c -> c.getOptimization().getExecutionAccelerators())
        .orElse(ModelOptimizationPolicy.ExecutionAccelerators.getDefaultInstance());
    List<Accelerator> chosen = device.isGpu() ? accelerators.getGpuExecutionAcceleratorList()
        : accelerators.getCpuExecutionAcceleratorList();
    for (Accelerator a : chosen) {
      switch (a.getName()) {
        case "tensorrt" -> {
          if (available(OrtProvider.TENSOR_RT, a, label)) {
            options.addTensorrt(device.index());
          }
        }
        case "openvino" -> {
          if (available(OrtProvider.OPEN_VINO, a, label)) {
            options.addOpenVINO(a.getParametersOrDefault("device_type", "CPU"));
          }
        }
        default -> throw new ModelLoadException(label + ": execution accelerator '" + a.getName() + "' is not one "
            + "ONNX Runtime offers here; " + (device.isGpu() ? "on a GPU: tensorrt" : "on the CPU: openvino"));
      }
    }
    if (device.isGpu()) {
      options.addCUDA(device.index()); // ONNX Runtime runs the nodes CUDA lacks on the CPU
    }
  }

  private static boolean available(OrtProvider provider, Accelerator a, String label) {
    if (OrtEnvironment.getAvailableProviders().contains(provider)) {
      return true;
    }
    log.warn("{}: execution accelerator '{}' needs ONNX Runtime's {} provider, which this build does not have "
        + "(available: {}); the model runs without it", label, a.getName(), provider,
        OrtEnvironment.getAvailableProviders());
    return false;
  }
}
