package io.junction.gpu;

import io.junction.proto.inference.ModelConfig;
import io.junction.server.backend.Backend;
import io.junction.server.backend.LoadedModel;
import io.junction.server.backend.ModelLoadException;
import io.junction.server.backend.ModelLoadRequest;
import io.junction.server.backend.ModelSignature;
import io.junction.server.backend.TensorSpec;
import io.junction.server.device.DeviceId;
import io.junction.server.model.ServedModel;
import io.junction.server.tensor.DataType;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.tensorrt.global.nvinfer;
import org.bytedeco.tensorrt.nvinfer.Dims64;
import org.bytedeco.tensorrt.nvinfer.ICudaEngine;
import org.bytedeco.tensorrt.nvinfer.IRuntime;

/**
 * Triton's {@code tensorrt_plan} platform: a serialized TensorRT engine ({@code <version>/model.plan}),
 * deserialized on the GPU its instance group places it on. Its inputs and outputs, with -1 for the
 * dimensions its optimization profile leaves open, are the model's signature. Nothing native is touched
 * until a plan is loaded, so the server finds this backend on machines without TensorRT and only a
 * {@code tensorrt_plan} model fails there, with that reason.
 */
public final class TensorRtBackend implements Backend {
  private static final long MAX_PLAN_BYTES = Integer.MAX_VALUE - 8L;

  @Override
  public String name() {
    return "tensorrt";
  }

  @Override
  public Set<String> platforms() {
    return Set.of("tensorrt_plan");
  }

  @Override
  public String defaultModelFilename() {
    return "model.plan";
  }

  @Override
  public Set<DeviceId.Kind> deviceKinds() {
    return Set.of(DeviceId.Kind.GPU);
  }

  @Override
  public LoadedModel load(ModelLoadRequest request) throws ModelLoadException {
    String label = ServedModel.label(request.modelName(), request.version()) + " on " + request.device();
    if (!request.device().isGpu()) {
      throw new ModelLoadException(label + ": TensorRT engines run on GPUs; give the model a KIND_GPU instance group");
    }
    byte[] plan;
    try {
      long size = Files.size(request.modelFile());
      if (size > MAX_PLAN_BYTES) {
        throw new ModelLoadException(label + ": " + request.modelFile().getFileName() + " is " + size
            + " bytes; plans of 2 GiB and more are not supported");
      }
      plan = Files.readAllBytes(request.modelFile());
    } catch (IOException e) {
      throw new ModelLoadException(label + ": cannot read " + request.modelFile().getFileName() + ": " + e.getMessage(), e);
    }
    try {
      Cuda.useDevice(request.device().index());
      TensorRtLogger logger = new TensorRtLogger();
      IRuntime runtime = nvinfer.createInferRuntime(logger);
      if (runtime == null || runtime.isNull()) {
        throw new ModelLoadException(label + ": TensorRT could not create a runtime (see the log)");
      }
      ICudaEngine engine;
      try (BytePointer bytes = new BytePointer(plan)) {
        engine = runtime.deserializeCudaEngine(bytes, plan.length);
      }
      if (engine == null || engine.isNull()) {
        runtime.close();
        throw new ModelLoadException(label + ": " + request.modelFile().getFileName() + " is not a TensorRT engine this "
            + "TensorRT (" + version() + ") can run on this GPU; TensorRT's reason is in the log");
      }
      ModelSignature signature;
      try {
        signature = signature(label, engine);
        checkProfile(label, engine, signature, request.config().map(ModelConfig::getMaxBatchSize).orElse(0));
      } catch (ModelLoadException e) {
        engine.close();
        runtime.close();
        throw e;
      }
      return new TensorRtLoadedModel(label, request.device().index(), logger, runtime, engine, signature, plan.length);
    } catch (CudaException e) {
      throw new ModelLoadException(label + ": " + e.getMessage(), e);
    } catch (LinkageError e) {
      throw new ModelLoadException(label + ": the TensorRT or CUDA libraries are not on this machine ("
          + Cuda.linkFailure(e) + ")", e);
    }
  }

  private static String version() {
    int v = nvinfer.getInferLibVersion();
    return (v / 10000) + "." + (v / 100 % 100) + "." + (v % 100);
  }

  private static ModelSignature signature(String label, ICudaEngine engine) throws ModelLoadException {
    List<TensorSpec> inputs = new ArrayList<>();
    List<TensorSpec> outputs = new ArrayList<>();
    for (int i = 0; i < engine.getNbIOTensors(); i++) {
      String name = engine.getIOTensorName(i);
      nvinfer.DataType trtType = engine.getTensorDataType(name);
      DataType type = TensorRtTypes.toDataType(trtType).orElseThrow(() -> new ModelLoadException(label + ": tensor '"
          + name + "' is " + trtType + ", which the Open Inference Protocol cannot carry"));
      TensorSpec spec = new TensorSpec(name, type, dims(engine.getTensorShape(name)));
      if (engine.getTensorIOMode(name) == nvinfer.TensorIOMode.kINPUT) {
        inputs.add(spec);
      } else {
        outputs.add(spec);
      }
    }
    return new ModelSignature(inputs, outputs);
  }

  /**
   * Executions use the engine's first optimization profile: a {@code max_batch_size} above what it allows for
   * an input's batch dimension would let the batcher form batches TensorRT refuses, so the load fails instead.
   */
  private static void checkProfile(String label, ICudaEngine engine, ModelSignature signature, int maxBatchSize)
      throws ModelLoadException {
    if (maxBatchSize <= 0 || engine.getNbOptimizationProfiles() == 0) {
      return;
    }
    for (TensorSpec input : signature.inputs()) {
      long[] shape = input.shape();
      if (shape.length == 0 || shape[0] >= 0) {
        continue;
      }
      long most = engine.getProfileShape(input.name(), 0, nvinfer.OptProfileSelector.kMAX).d(0);
      if (most < maxBatchSize) {
        throw new ModelLoadException(label + ": max_batch_size " + maxBatchSize + " is more than the engine's "
            + "optimization profile allows for input '" + input.name() + "' (" + most + " rows); lower max_batch_size "
            + "or build the plan with a larger profile");
      }
    }
  }

  static long[] dims(Dims64 dims) {
    long[] shape = new long[dims.nbDims()];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = dims.d(i);
    }
    return shape;
  }
}
