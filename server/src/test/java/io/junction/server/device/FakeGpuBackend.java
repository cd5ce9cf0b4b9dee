package io.junction.server.device;

import io.junction.server.backend.Backend;
import io.junction.server.backend.ExecutionTimings;
import io.junction.server.backend.LoadedModel;
import io.junction.server.backend.ModelLoadException;
import io.junction.server.backend.ModelLoadRequest;
import io.junction.server.backend.ModelSignature;
import io.junction.server.backend.onnx.OnnxBackend;
import io.junction.server.tensor.Tensor;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A backend for fake GPUs: platform {@code fake_gpu}, runs on the CPU and on GPUs. Each copy is a real
 * ONNX Runtime session (answers are the model's), and the backend records which device each copy was
 * loaded on, how many executions each device ran and the most that ran on one device at once. A config
 * parameter {@code fake_execution_millis} makes every execution take that much longer, like a busy GPU.
 */
final class FakeGpuBackend implements Backend {
  static final String PLATFORM = "fake_gpu";
  static final String EXECUTION_MILLIS = "fake_execution_millis";

  private final OnnxBackend onnx = new OnnxBackend();
  final Map<String, Set<DeviceId>> loadedOn = new ConcurrentHashMap<>();
  final Map<DeviceId, AtomicLong> executions = new ConcurrentHashMap<>();
  private final Map<DeviceId, AtomicInteger> running = new ConcurrentHashMap<>();
  final Map<DeviceId, AtomicInteger> peakRunning = new ConcurrentHashMap<>();

  @Override
  public String name() {
    return "fake_gpu";
  }

  @Override
  public Set<String> platforms() {
    return Set.of(PLATFORM);
  }

  @Override
  public String defaultModelFilename() {
    return "model.onnx";
  }

  @Override
  public Set<String> modelParameters() {
    return Set.of(EXECUTION_MILLIS);
  }

  @Override
  public Set<DeviceId.Kind> deviceKinds() {
    return Set.of(DeviceId.Kind.CPU, DeviceId.Kind.GPU);
  }

  @Override
  public LoadedModel load(ModelLoadRequest request) throws ModelLoadException {
    LoadedModel session = onnx.load(new ModelLoadRequest(request.modelName(), request.version(), request.modelFile(),
        request.config()));
    DeviceId device = request.device();
    loadedOn.computeIfAbsent(request.modelName(), k -> ConcurrentHashMap.newKeySet()).add(device);
    long delay = request.config().map(c -> c.getParametersMap().get(EXECUTION_MILLIS))
        .map(p -> Long.parseLong(p.getStringValue())).orElse(0L);
    return new LoadedModel() {
      @Override
      public ModelSignature signature() {
        return session.signature();
      }

      @Override
      public List<Tensor> run(Map<String, Tensor> inputs, List<String> outputs, ExecutionTimings timings) {
        int now = running.computeIfAbsent(device, d -> new AtomicInteger()).incrementAndGet();
        peakRunning.computeIfAbsent(device, d -> new AtomicInteger()).accumulateAndGet(now, Math::max);
        try {
          if (delay > 0) {
            Thread.sleep(delay);
          }
          executions.computeIfAbsent(device, d -> new AtomicLong()).incrementAndGet();
          return session.run(inputs, outputs, timings);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException(e);
        } finally {
          running.get(device).decrementAndGet();
        }
      }

      @Override
      public void close() {
        session.close();
      }
    };
  }

  @Override
  public void close() {
    onnx.close();
  }
}
