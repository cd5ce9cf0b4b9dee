package io.junction.gpu;

import io.junction.server.device.Device;
import io.junction.server.device.DeviceDiscovery;
import io.junction.server.device.DeviceId;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.cuda.cudart.cudaDeviceProp;
import org.bytedeco.cuda.global.cudart;

/**
 * The GPUs the CUDA runtime sees, as {@code gpu:0}, {@code gpu:1} ... in its order, with their names and
 * memory; and, where NVML is present, their memory use and utilisation as Triton's {@code nv_gpu_*} gauges.
 */
public final class CudaDeviceDiscovery implements DeviceDiscovery {
  @Override
  public String name() {
    return "CUDA";
  }

  @Override
  public List<Device> discover() {
    int[] count = new int[1];
    int status;
    try {
      status = cudart.cudaGetDeviceCount(count);
    } catch (LinkageError e) {
      throw new IllegalStateException("the CUDA runtime cannot be loaded: JavaCPP's cuda jar for this platform "
          + "(cuda-*-linux-x86_64.jar), libcudart and the NVIDIA driver's libcuda must be on this machine ("
          + Cuda.linkFailure(e) + ")", e);
    }
    if (status == cudart.cudaErrorNoDevice) {
      return List.of();
    }
    Cuda.check(status, "cudaGetDeviceCount");
    List<Device> devices = new ArrayList<>();
    for (int i = 0; i < count[0]; i++) {
      try (cudaDeviceProp properties = new cudaDeviceProp()) {
        Cuda.check(cudart.cudaGetDeviceProperties(properties, i), "cudaGetDeviceProperties(" + i + ")");
        devices.add(new Device(DeviceId.gpu(i), properties.name().getString(), properties.totalGlobalMem()));
      }
    }
    return devices;
  }

  @Override
  public void registerMetrics(PrometheusRegistry registry, List<Device> devices) {
    NvmlMetrics.register(registry, devices);
  }
}
