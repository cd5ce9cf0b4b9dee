package io.junction.server.model;

import io.junction.proto.inference.ModelConfig;
import io.junction.proto.inference.ModelInput;
import io.junction.proto.inference.ModelOutput;
import io.junction.proto.inference.ModelWarmup;
import io.junction.server.backend.ExecutionTimings;
import io.junction.server.backend.LoadedModel;
import io.junction.server.backend.ModelLoadException;
import io.junction.server.tensor.DataType;
import io.junction.server.tensor.Shapes;
import io.junction.server.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;
import org.slf4j.LoggerFactory;

/**
 * Triton's {@code model_warmup}: each sample runs through the loaded model before it takes traffic, so
 * the first real request does not pay for lazy initialisation. A sample that fails makes the load fail.
 */
final class Warmup {
  private static final org.slf4j.Logger log = LoggerFactory.getLogger(Warmup.class);

  private Warmup() {}

  /**
   * Runs the config's warm-up samples; with {@code auto} and none in the config, runs zeros at the
   * batch sizes the model will see (1, each preferred size, the max), variable dimensions set to 1.
   */
  static void run(String label, ModelConfig config, LoadedModel model, boolean auto) throws ModelLoadException {
    List<ModelWarmup> samples = config.getModelWarmupList();
    if (samples.isEmpty() && auto) {
      samples = synthetic(config);
    }
    List<String> outputs = config.getOutputList().stream().map(ModelOutput::getName).toList();
    for (ModelWarmup sample : samples) {
      Map<String, Tensor> inputs = new HashMap<>();
      for (Map.Entry<String, ModelWarmup.Input> e : sample.getInputsMap().entrySet()) {
        inputs.put(e.getKey(), tensor(label, sample, e.getKey(), e.getValue(), config.getMaxBatchSize() > 0));
      }
      int runs = Math.max(1, sample.getCount());
      long start = System.nanoTime();
      for (int i = 0; i < runs; i++) {
        try {
          model.run(inputs, outputs, new ExecutionTimings());
        } catch (RuntimeException e) {
          throw new ModelLoadException(label + ": warmup sample '" + sample.getName() + "' failed: " + e.getMessage(), e);
        }
      }
      log.info("{}: warm-up sample '{}' ran {} time(s) in {} ms", label, sample.getName(), runs,
          (System.nanoTime() - start) / 1_000_000);
    }
  }

  private static List<ModelWarmup> synthetic(ModelConfig config) {
    TreeSet<Integer> sizes = new TreeSet<>();
    sizes.add(1);
    if (config.getMaxBatchSize() > 0) {
      sizes.add(config.getMaxBatchSize());
      if (config.hasDynamicBatching()) {
        sizes.addAll(config.getDynamicBatching().getPreferredBatchSizeList());
      }
    }
    List<ModelWarmup> samples = new ArrayList<>();
    for (int size : sizes) {
      ModelWarmup.Builder sample = ModelWarmup.newBuilder().setName("auto_batch_" + size).setBatchSize(size);
      for (var input : config.getInputList()) {
        sample.putInputs(input.getName(), ModelWarmup.Input.newBuilder().setDataType(input.getDataType())
            .setZeroData(true).addAllDims(syntheticDims(input)).build());
      }
      samples.add(sample.build());
    }
    return samples;
  }

  /**
   * An input's dims with variable ones set to 1; a reshaped input's first variable one is sized instead so that
   * its reshape holds the row (dims {@code [-1]} reshaped {@code [-1, 3]} warm with 3 elements, not 1).
   */
  private static List<Long> syntheticDims(ModelInput input) {
    List<Long> dims = new ArrayList<>();
    input.getDimsList().forEach(d -> dims.add(d < 0 ? 1L : d));
    int variable = input.getDimsList().indexOf(Shapes.DYNAMIC);
    if (!input.hasReshape() || variable < 0) {
      return dims;
    }
    long row = dims.stream().mapToLong(Long::longValue).reduce(1, Math::multiplyExact);
    List<Long> reshape = input.getReshape().getShapeList();
    long fixed = reshape.stream().filter(d -> d > 0).mapToLong(Long::longValue).reduce(1, Math::multiplyExact);
    if (reshape.contains(Shapes.DYNAMIC)) {
      dims.set(variable, fixed / gcd(row, fixed)); // the row becomes a multiple of the reshape's fixed part
    } else if (fixed % row == 0) {
      dims.set(variable, fixed / row);
    }
    return dims;
  }

  private static long gcd(long a, long b) {
    return b == 0 ? a : gcd(b, a % b);
  }

  private static Tensor tensor(String label, ModelWarmup sample, String name, ModelWarmup.Input input, boolean batched)
      throws ModelLoadException {
    String where = label + ": warmup sample '" + sample.getName() + "' input '" + name + "'";
    DataType type = DataType.fromConfigName(input.getDataType().name())
        .orElseThrow(() -> new ModelLoadException(where + " has no data_type"));
    List<Long> dims = new ArrayList<>();
    if (batched) {
      dims.add((long) Math.max(1, sample.getBatchSize()));
    }
    dims.addAll(input.getDimsList());
    long[] shape = dims.stream().mapToLong(Long::longValue).toArray();
    long count;
    try {
      count = Shapes.elementCount(shape);
    } catch (IllegalArgumentException e) {
      throw new ModelLoadException(where + ": " + e.getMessage());
    }
    if (count > 64L << 20) {
      throw new ModelLoadException(where + " asks for " + count + " elements; warmup samples must be small");
    }
    if (input.getInputDataTypeCase() == ModelWarmup.Input.InputDataTypeCase.INPUT_DATA_FILE) {
      throw new ModelLoadException(where + " uses input_data_file, which Junction does not support; use zero_data or random_data");
    }
    boolean random = input.getRandomData();
    SplittableRandom rng = new SplittableRandom(name.hashCode());
    if (type == DataType.BYTES) {
      List<byte[]> elements = new ArrayList<>();
      for (long i = 0; i < count; i++) {
        elements.add(random ? Long.toHexString(rng.nextLong()).getBytes(StandardCharsets.UTF_8) : new byte[0]);
      }
      return Tensor.bytes(name, shape, elements);
    }
    ByteBuffer data = ByteBuffer.allocateDirect((int) (count * type.byteSize())).order(ByteOrder.LITTLE_ENDIAN);
    if (random) {
      for (long i = 0; i < count; i++) {
        switch (type) {
          case FP32 -> data.putFloat((float) rng.nextDouble());
          case FP64 -> data.putDouble(rng.nextDouble());
          case BOOL -> data.put((byte) rng.nextInt(2));
          default -> {
            for (int b = 0; b < type.byteSize(); b++) {
              data.put((byte) rng.nextInt(16)); // small non-negative values: safe as indices or halves
            }
          }
        }
      }
      data.flip();
    }
    return Tensor.fixed(name, type, shape, data);
  }
}
