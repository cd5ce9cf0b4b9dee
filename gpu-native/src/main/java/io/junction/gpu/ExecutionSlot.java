package io.junction.gpu;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.Map;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.tensorrt.nvinfer.ICudaEngine;
import org.bytedeco.tensorrt.nvinfer.IExecutionContext;

/**
 * What one run at a time needs on the GPU: an execution context, a stream, and per tensor a device
 * buffer and a pinned host buffer, grown to the largest batch seen and reused, so a steady load allocates
 * nothing. Copies are asynchronous on the slot's stream: host memory to pinned (CPU), pinned to device
 * (DMA), and back the same way.
 */
final class ExecutionSlot implements AutoCloseable {
  private final String label;
  private final IExecutionContext context;
  private final CUstream_st stream = new CUstream_st();
  private final Map<String, Buffer> buffers = new HashMap<>();

  /** A tensor's device and pinned host memory, of {@code capacity} bytes each. */
  private static final class Buffer {
    final Pointer device = new Pointer();
    final BytePointer host = new BytePointer();
    long capacity;
  }

  ExecutionSlot(String label, ICudaEngine engine) {
    this.label = label;
    this.context = engine.createExecutionContext();
    if (context == null || context.isNull()) {
      throw new CudaException(label + ": TensorRT could not create an execution context (out of device memory?)");
    }
    Cuda.check(cudart.cudaStreamCreateWithFlags(stream, cudart.cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
  }

  IExecutionContext context() {
    return context;
  }

  CUstream_st stream() {
    return stream;
  }

  /** Starts copying {@code data} to the tensor's device buffer and binds it. */
  void copyIn(String tensor, ByteBuffer data) {
    long bytes = data.remaining();
    Buffer b = buffer(tensor, bytes);
    Pointer.memcpy(b.host, new Pointer(data), bytes);
    Cuda.check(cudart.cudaMemcpyAsync(b.device, b.host, bytes, cudart.cudaMemcpyHostToDevice, stream),
        "cudaMemcpyAsync(host to device, " + tensor + ")");
    bind(tensor, b);
  }

  void bindOutput(String tensor, long bytes) {
    bind(tensor, buffer(tensor, bytes));
  }

  /** Starts copying an output to its pinned buffer; the view is valid after {@link #synchronize()}. */
  ByteBuffer copyOut(String tensor, long bytes) {
    Buffer b = buffers.get(tensor);
    Cuda.check(cudart.cudaMemcpyAsync(b.host, b.device, bytes, cudart.cudaMemcpyDeviceToHost, stream),
        "cudaMemcpyAsync(device to host, " + tensor + ")");
    return b.host.position(0).limit(bytes).asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
  }

  void synchronize() {
    Cuda.check(cudart.cudaStreamSynchronize(stream), label + ": cudaStreamSynchronize");
  }

  long deviceBytes() {
    return buffers.values().stream().mapToLong(b -> b.capacity).sum();
  }

  private void bind(String tensor, Buffer b) {
    if (!context.setTensorAddress(tensor, b.device)) {
      throw new CudaException(label + ": TensorRT refused the address of tensor '" + tensor + "'");
    }
  }

  private Buffer buffer(String tensor, long bytes) {
    Buffer b = buffers.computeIfAbsent(tensor, t -> new Buffer());
    if (b.capacity < bytes) {
      free(b);
      long capacity = Math.max(bytes, 256); // never zero: TensorRT wants an address even for empty tensors
      Cuda.check(cudart.cudaMalloc(b.device, capacity), "cudaMalloc(" + capacity + " bytes for " + tensor + ")");
      Cuda.check(cudart.cudaMallocHost(b.host, capacity), "cudaMallocHost(" + capacity + " bytes for " + tensor + ")");
      b.capacity = capacity;
    }
    return b;
  }

  private static void free(Buffer b) {
    if (b.capacity > 0) {
      cudart.cudaFree(b.device);
      cudart.cudaFreeHost(b.host);
      b.capacity = 0;
    }
  }

  @Override
  public void close() {
    buffers.values().forEach(ExecutionSlot::free);
    cudart.cudaStreamDestroy(stream);
    context.close();
  }
}
