package io.junction.gpu;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.junction.proto.inference.GRPCInferenceServiceGrpc;
import io.junction.proto.inference.ModelInferRequest;
import io.junction.proto.inference.ModelInferResponse;
import io.junction.proto.inference.RepositoryIndexRequest;
import io.junction.server.JunctionServer;
import io.junction.server.config.ServerConfig;
import io.junction.server.device.Device;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;

/**
 * What {@code gpu-native/verify-gpu.sh run} runs on a GPU machine: each check prints one line, {@code OK},
 * {@code SKIP} (with why it could not run here) or {@code FAIL}; the exit status is 1 when any check failed.
 * Checks: the CUDA devices, a copy to a GPU and back, NVML's gauges, the demo {@code mlp} served on GPU 0
 * through Junction (ONNX Runtime's CUDA provider) and compared with the CPU, throughput per batch size,
 * and whether TensorRT is present.
 *
 * <p>Usage: {@code VerifyGpu REPOSITORY} where the repository holds {@code mlp} (CPU) and {@code mlp_gpu}
 * (the same model with {@code instance_group [ { kind: KIND_GPU gpus: [ 0 ] } ]}).
 */
public final class VerifyGpu {
  private int failures;

  private VerifyGpu() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 1) {
      System.err.println("usage: VerifyGpu REPOSITORY");
      System.exit(2);
    }
    VerifyGpu v = new VerifyGpu();
    v.run(Path.of(args[0]));
    System.out.println(v.failures == 0 ? "verify-gpu: no check failed" : "verify-gpu: " + v.failures + " check(s) failed");
    System.exit(v.failures == 0 ? 0 : 1);
  }

  private void line(String verdict, String check, String detail) {
    if (verdict.equals("FAIL")) {
      failures++;
    }
    System.out.printf("%-4s %s: %s%n", verdict, check, detail);
    System.out.flush();
  }

  private void run(Path repository) throws Exception {
    List<Device> devices;
    try {
      devices = new CudaDeviceDiscovery().discover();
    } catch (RuntimeException | LinkageError e) {
      line("SKIP", "devices", "no CUDA runtime here: " + e.getMessage());
      servedOnGpu(repository, false);
      return;
    }
    if (devices.isEmpty()) {
      line("SKIP", "devices", "the CUDA runtime loads but sees no GPU");
      servedOnGpu(repository, false);
      return;
    }
    line("OK", "devices", devices.toString());
    roundTrip();
    nvml(devices);
    servedOnGpu(repository, true);
    tensorRt();
  }

  private void roundTrip() {
    int bytes = 64 << 20;
    Pointer device = new Pointer();
    BytePointer up = new BytePointer();
    BytePointer down = new BytePointer();
    try {
      Cuda.useDevice(0);
      Cuda.check(cudart.cudaMalloc(device, bytes), "cudaMalloc");
      Cuda.check(cudart.cudaMallocHost(up, bytes), "cudaMallocHost");
      Cuda.check(cudart.cudaMallocHost(down, bytes), "cudaMallocHost");
      ByteBuffer pattern = up.position(0).limit(bytes).asByteBuffer();
      for (int i = 0; i < bytes; i++) {
        pattern.put(i, (byte) (i * 31 + 7));
      }
      long start = System.nanoTime();
      Cuda.check(cudart.cudaMemcpy(device, up, bytes, cudart.cudaMemcpyHostToDevice), "cudaMemcpy(to device)");
      Cuda.check(cudart.cudaMemcpy(down, device, bytes, cudart.cudaMemcpyDeviceToHost), "cudaMemcpy(to host)");
      double seconds = (System.nanoTime() - start) / 1e9;
      boolean same = down.position(0).limit(bytes).asByteBuffer().equals(up.position(0).limit(bytes).asByteBuffer());
      line(same ? "OK" : "FAIL", "CUDA round trip", String.format(Locale.ROOT, "%d MiB to GPU 0 and back, %s, %.1f GB/s",
          bytes >> 20, same ? "identical" : "DIFFERENT", 2.0 * bytes / seconds / 1e9));
    } catch (CudaException e) {
      line("FAIL", "CUDA round trip", e.getMessage());
    } finally {
      cudart.cudaFree(device);
      cudart.cudaFreeHost(up);
      cudart.cudaFreeHost(down);
    }
  }

  private void nvml(List<Device> devices) {
    PrometheusRegistry registry = new PrometheusRegistry();
    NvmlMetrics.register(registry, devices);
    var names = registry.scrape().stream().map(s -> s.getMetadata().getPrometheusName()).toList();
    if (names.isEmpty()) {
      line("SKIP", "NVML", "no NVML here (the log line above says why)");
      return;
    }
    StringBuilder values = new StringBuilder();
    registry.scrape().forEach(s -> s.getDataPoints().forEach(p -> values.append(s.getMetadata().getPrometheusName())
        .append('=').append(((GaugeSnapshot.GaugeDataPointSnapshot) p).getValue())
        .append(' ')));
    line("OK", "NVML", values.toString().strip());
  }

  private void servedOnGpu(Path repository, boolean gpus) throws Exception {
    try (JunctionServer server = new JunctionServer(ServerConfig.loopback(repository)).start()) {
      ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext().build();
      try {
        var stub = GRPCInferenceServiceGrpc.newBlockingStub(channel);
        var gpu = stub.repositoryIndex(RepositoryIndexRequest.getDefaultInstance()).getModelsList().stream()
            .filter(m -> m.getName().equals("mlp_gpu")).findFirst().orElseThrow();
        if (!gpu.getState().equals("READY")) {
          boolean expected = gpu.getReason().contains("CPU only") || gpu.getReason().contains("does not have");
          line(expected ? "SKIP" : "FAIL", "ONNX on CUDA", "mlp_gpu is " + gpu.getState() + ": " + gpu.getReason()
              + (expected ? " (refused, not run on the CPU: " + (gpus ? "this ONNX Runtime has no CUDA provider; "
                  + "build with -Pgpu for onnxruntime_gpu)" : "no GPU)") : ""));
          return;
        }
        float[] x = new float[64 * 8];
        for (int i = 0; i < x.length; i++) {
          x[i] = (i % 17) / 8f - 1;
        }
        float[] cpu = floats(stub.modelInfer(request("mlp", x, 64)));
        float[] cuda = floats(stub.modelInfer(request("mlp_gpu", x, 64)));
        double worst = 0;
        for (int i = 0; i < cpu.length; i++) {
          worst = Math.max(worst, Math.abs(cpu[i] - cuda[i]));
        }
        line(worst <= 1e-4 ? "OK" : "FAIL", "ONNX on CUDA", String.format(Locale.ROOT,
            "mlp_gpu on GPU 0 answers as mlp on the CPU: 64 rows, largest difference %.2g", worst));
        for (int batch : new int[] {1, 8, 64}) {
          ModelInferRequest r = request("mlp_gpu", Arrays.copyOf(x, batch * 8), batch);
          long end = System.nanoTime() + 2_000_000_000L;
          long calls = 0;
          long start = System.nanoTime();
          while (System.nanoTime() < end) {
            stub.modelInfer(r);
            calls++;
          }
          double seconds = (System.nanoTime() - start) / 1e9;
          line("OK", "throughput batch " + batch, String.format(Locale.ROOT, "%.0f calls/s, %.0f rows/s (one caller)",
              calls / seconds, calls * batch / seconds));
        }
      } finally {
        channel.shutdownNow();
      }
    }
  }

  private void tensorRt() {
    try {
      int v = org.bytedeco.tensorrt.global.nvinfer.getInferLibVersion();
      line("OK", "TensorRT", "libraries present, version " + v / 10000 + "." + v / 100 % 100 + "." + v % 100
          + "; serving a plan needs one built for this GPU (trtexec), which this check does not build");
    } catch (LinkageError e) {
      line("SKIP", "TensorRT", "its libraries are not on this machine (" + Cuda.linkFailure(e) + ")");
    }
  }

  private static ModelInferRequest request(String model, float[] x, int rows) {
    ByteBuffer raw = ByteBuffer.allocate(x.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float f : x) {
      raw.putFloat(f);
    }
    return ModelInferRequest.newBuilder().setModelName(model)
        .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("x").setDatatype("FP32").addShape(rows)
            .addShape(8))
        .addRawInputContents(ByteString.copyFrom(raw.array())).build();
  }

  private static float[] floats(ModelInferResponse r) {
    ByteBuffer b = r.getRawOutputContents(0).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    float[] out = new float[b.remaining() / 4];
    b.asFloatBuffer().get(out);
    return out;
  }
}
