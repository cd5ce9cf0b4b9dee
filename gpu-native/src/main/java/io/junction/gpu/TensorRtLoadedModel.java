package io.junction.gpu;

import io.junction.server.backend.ExecutionTimings;
import io.junction.server.backend.LoadedModel;
import io.junction.server.backend.ModelSignature;
import io.junction.server.backend.TensorSpec;
import io.junction.server.errors.InferenceFailedException;
import io.junction.server.errors.InvalidInputException;
import io.junction.server.tensor.DataType;
import io.junction.server.tensor.Shapes;
import io.junction.server.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import org.bytedeco.tensorrt.nvinfer.Dims64;
import org.bytedeco.tensorrt.nvinfer.ICudaEngine;
import org.bytedeco.tensorrt.nvinfer.IRuntime;

/**
 * A TensorRT engine on one GPU. Each concurrent run takes an {@link ExecutionSlot} (its own execution
 * context, stream and buffers), made on first need and kept: the scheduler runs at most the instance
 * count of runs on a copy at once, so that is how many slots there come to be.
 */
final class TensorRtLoadedModel implements LoadedModel {
  private final String label;
  private final int device;
  /** Kept reachable: TensorRT calls it for as long as the runtime lives. */
  @SuppressWarnings("unused")
  private final TensorRtLogger logger;
  private final IRuntime runtime;
  private final ICudaEngine engine;
  private final ModelSignature signature;
  private final long planBytes;
  private final ConcurrentLinkedQueue<ExecutionSlot> idle = new ConcurrentLinkedQueue<>();
  private final List<ExecutionSlot> all = new CopyOnWriteArrayList<>();

  TensorRtLoadedModel(String label, int device, TensorRtLogger logger, IRuntime runtime, ICudaEngine engine,
      ModelSignature signature, long planBytes) {
    this.label = label;
    this.device = device;
    this.logger = logger;
    this.runtime = runtime;
    this.engine = engine;
    this.signature = signature;
    this.planBytes = planBytes;
  }

  @Override
  public ModelSignature signature() {
    return signature;
  }

  @Override
  public List<Tensor> run(Map<String, Tensor> inputs, List<String> outputs, ExecutionTimings timings) {
    ExecutionSlot slot = idle.poll();
    try {
      Cuda.useDevice(device);
      if (slot == null) {
        slot = new ExecutionSlot(label, engine);
        all.add(slot);
      }
      return run(slot, inputs, outputs, timings);
    } catch (CudaException e) {
      throw new InferenceFailedException(label + ": " + e.getMessage(), e);
    } finally {
      if (slot != null) {
        idle.add(slot);
      }
    }
  }

  private List<Tensor> run(ExecutionSlot slot, Map<String, Tensor> inputs, List<String> outputs,
      ExecutionTimings timings) {
    long start = System.nanoTime();
    for (TensorSpec spec : signature.inputs()) {
      Tensor t = inputs.get(spec.name());
      if (t == null) {
        throw new InvalidInputException(label + ": input '" + spec.name() + "' is missing");
      }
      if (t.dataType() == DataType.BYTES) {
        throw new InvalidInputException(label + ": input '" + spec.name() + "' is BYTES, which TensorRT cannot take");
      }
      try (Dims64 dims = dims(t.shape())) {
        if (!slot.context().setInputShape(spec.name(), dims)) {
          throw new InvalidInputException(label + ": input '" + spec.name() + "' of shape " + Shapes.format(t.shape())
              + " is outside the engine's optimization profile");
        }
      }
      slot.copyIn(spec.name(), t.unsafeData());
    }
    List<long[]> shapes = new ArrayList<>();
    for (TensorSpec spec : signature.outputs()) {
      // TensorRT writes every output, asked for or not: each needs an address.
      long[] shape = TensorRtBackend.dims(slot.context().getTensorShape(spec.name()));
      shapes.add(shape);
      slot.bindOutput(spec.name(), Shapes.elementCount(shape) * spec.dataType().byteSize());
    }
    slot.synchronize();
    long copied = System.nanoTime();
    timings.recordInput(copied - start);
    if (!slot.context().enqueueV3(slot.stream())) {
      throw new InferenceFailedException(label + ": TensorRT could not enqueue the batch (see the log)");
    }
    slot.synchronize();
    long ran = System.nanoTime();
    timings.recordInfer(ran - copied);
    List<Tensor> produced = new ArrayList<>(outputs.size());
    List<ByteBuffer> hosts = new ArrayList<>(outputs.size());
    for (String name : outputs) {
      int index = outputIndex(name);
      TensorSpec spec = signature.outputs().get(index);
      long bytes = Shapes.elementCount(shapes.get(index)) * spec.dataType().byteSize();
      hosts.add(slot.copyOut(name, bytes));
    }
    slot.synchronize();
    for (int i = 0; i < outputs.size(); i++) {
      int index = outputIndex(outputs.get(i));
      TensorSpec spec = signature.outputs().get(index);
      produced.add(Tensor.fixed(spec.name(), spec.dataType(), shapes.get(index), directCopy(hosts.get(i))));
    }
    timings.recordOutput(System.nanoTime() - ran);
    return produced;
  }

  private int outputIndex(String name) {
    for (int i = 0; i < signature.outputs().size(); i++) {
      if (signature.outputs().get(i).name().equals(name)) {
        return i;
      }
    }
    throw new InvalidInputException(label + ": the engine has no output '" + name + "'");
  }

  private static Dims64 dims(long[] shape) {
    Dims64 dims = new Dims64();
    dims.nbDims(shape.length);
    for (int i = 0; i < shape.length; i++) {
      dims.d(i, shape[i]);
    }
    return dims;
  }

  @Override
  public long deviceMemoryBytes() {
    long buffers = all.stream().mapToLong(ExecutionSlot::deviceBytes).sum();
    return planBytes + engine.getDeviceMemorySizeV2() * Math.max(1, all.size()) + buffers;
  }

  @Override
  public void close() {
    Cuda.useDevice(device);
    all.forEach(ExecutionSlot::close);
    engine.close();
    runtime.close();
  }

  /** An output out of the pinned buffer it landed in, which the slot's next run reuses. */
  private static ByteBuffer directCopy(ByteBuffer pinned) {
    ByteBuffer copy = ByteBuffer.allocateDirect(pinned.remaining()).order(ByteOrder.LITTLE_ENDIAN);
    copy.put(pinned).flip();
    return copy;
  }
}
