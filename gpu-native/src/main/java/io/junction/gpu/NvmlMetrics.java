package io.junction.gpu;

import io.junction.server.device.Device;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.bytedeco.cuda.global.nvml;
import org.bytedeco.cuda.nvml.nvmlDevice_st;
import org.bytedeco.cuda.nvml.nvmlMemory_t;
import org.bytedeco.cuda.nvml.nvmlUtilization_t;
import org.slf4j.LoggerFactory;

/**
 * Triton's GPU gauges from NVML, read when scraped: {@code nv_gpu_memory_total_bytes},
 * {@code nv_gpu_memory_used_bytes} and {@code nv_gpu_utilization} (0 to 1), labelled with the GPU's UUID
 * (Triton's label) and Junction's device name. Without NVML (a container without the driver's
 * management library) one line says so and the gauges are absent.
 */
final class NvmlMetrics {
  private static final org.slf4j.Logger log = LoggerFactory.getLogger(NvmlMetrics.class);
  private static final int UUID_LENGTH = 96;

  private NvmlMetrics() {}

  /** One GPU as NVML knows it. */
  private record Gpu(String device, String uuid, nvmlDevice_st handle) {}

  static void register(PrometheusRegistry registry, List<Device> devices) {
    Map<String, Gpu> gpus = new LinkedHashMap<>();
    try {
      check(nvml.nvmlInit_v2(), "nvmlInit");
      for (Device d : devices) {
        if (!d.id().isGpu()) {
          continue;
        }
        nvmlDevice_st handle = new nvmlDevice_st();
        check(nvml.nvmlDeviceGetHandleByIndex_v2(d.id().index(), handle), "nvmlDeviceGetHandleByIndex");
        byte[] uuid = new byte[UUID_LENGTH];
        check(nvml.nvmlDeviceGetUUID(handle, uuid, UUID_LENGTH), "nvmlDeviceGetUUID");
        int end = 0;
        while (end < uuid.length && uuid[end] != 0) {
          end++;
        }
        gpus.put(d.id().toString(), new Gpu(d.id().toString(), new String(uuid, 0, end,
            StandardCharsets.US_ASCII), handle));
      }
    } catch (CudaException | LinkageError e) {
      log.warn("NVML: no GPU memory and utilisation metrics ({})", e.getMessage());
      return;
    }
    GaugeWithCallback.builder().name("nv_gpu_memory_total_bytes").help("GPU total memory, in bytes")
        .labelNames("gpu_uuid", "device")
        .callback(cb -> gpus.values().forEach(g -> memory(g).ifPresent(m -> cb.call(m[0], g.uuid(), g.device()))))
        .register(registry);
    GaugeWithCallback.builder().name("nv_gpu_memory_used_bytes").help("GPU used memory, in bytes")
        .labelNames("gpu_uuid", "device")
        .callback(cb -> gpus.values().forEach(g -> memory(g).ifPresent(m -> cb.call(m[1], g.uuid(), g.device()))))
        .register(registry);
    GaugeWithCallback.builder().name("nv_gpu_utilization").help("GPU utilization rate [0.0 - 1.0]")
        .labelNames("gpu_uuid", "device")
        .callback(cb -> gpus.values().forEach(g -> {
          try (nvmlUtilization_t u = new nvmlUtilization_t()) {
            if (nvml.nvmlDeviceGetUtilizationRates(g.handle(), u) == nvml.NVML_SUCCESS) {
              cb.call(u.gpu() / 100.0, g.uuid(), g.device());
            }
          }
        })).register(registry);
    log.info("NVML: GPU metrics for {}", gpus.keySet());
  }

  /** Total and used bytes; empty when NVML cannot say now (a scrape then leaves the GPU out). */
  private static Optional<long[]> memory(Gpu g) {
    try (nvmlMemory_t m = new nvmlMemory_t()) {
      if (nvml.nvmlDeviceGetMemoryInfo(g.handle(), m) != nvml.NVML_SUCCESS) {
        return Optional.empty();
      }
      return Optional.of(new long[] {m.total(), m.used()});
    }
  }

  private static void check(int status, String call) {
    if (status != nvml.NVML_SUCCESS) {
      throw new CudaException(call + " failed: " + nvml.nvmlErrorString(status).getString() + " (NVML error " + status
          + ")");
    }
  }
}
