package io.junction.server.model;

import io.junction.proto.inference.ModelConfig;
import io.junction.proto.inference.ModelInput;
import io.junction.proto.inference.ModelInstanceGroup;
import io.junction.proto.inference.ModelOutput;
import io.junction.server.backend.Backend;
import io.junction.server.backend.ModelLoadException;
import io.junction.server.backend.ModelSignature;
import io.junction.server.backend.TensorSpec;
import io.junction.server.tensor.DataType;
import io.junction.server.tensor.Shapes;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a model's config.pbtxt (or its absence) and the signature its backend read from the model
 * file into the effective config that is served, as Triton's auto-complete does: what the config
 * leaves out is filled in from the model file, and what it says must agree with the model file.
 */
public final class ModelConfigResolver {
  private static final Logger log = LoggerFactory.getLogger(ModelConfigResolver.class);

  private final int defaultMaxBatchSize;
  private final Set<String> serverParameters;
  private final boolean responseCache;

  /**
   * @param defaultMaxBatchSize the max_batch_size given to models without a config whose every input
   *     and output has a variable first dimension (Triton's {@code default-max-batch-size}); 0 turns
   *     batching off for such models
   * @param serverParameters the keys of config.pbtxt's {@code parameters} that the server's own parts read (batching,
   *     payload logging); with those each backend reads, the keys a config may set to any effect
   */
  public ModelConfigResolver(int defaultMaxBatchSize, Set<String> serverParameters) {
    this(defaultMaxBatchSize, serverParameters, false);
  }

  /** @param responseCache whether the server has a response cache, which configs may enable for their model */
  public ModelConfigResolver(int defaultMaxBatchSize, Set<String> serverParameters, boolean responseCache) {
    if (defaultMaxBatchSize < 0) {
      throw new IllegalArgumentException("defaultMaxBatchSize must be non-negative, got " + defaultMaxBatchSize);
    }
    this.defaultMaxBatchSize = defaultMaxBatchSize;
    this.serverParameters = Set.copyOf(serverParameters);
    this.responseCache = responseCache;
  }

  public ModelConfig resolve(String label, String modelName, Optional<ModelConfig> fromFile, ModelSignature signature,
      Backend backend) throws ModelLoadException {
    ModelConfig.Builder config = fromFile.map(ModelConfig::toBuilder).orElseGet(ModelConfig::newBuilder);
    config.setName(modelName);
    if (config.getBackend().isEmpty()) {
      config.setBackend(backend.name());
    }
    if (config.getPlatform().isEmpty() && !backend.platforms().isEmpty()) {
      config.setPlatform(backend.platforms().iterator().next());
    }
    if (config.getMaxBatchSize() < 0) {
      throw new ModelLoadException(label + ": max_batch_size must be non-negative, got " + config.getMaxBatchSize());
    }
    if (fromFile.isEmpty()) {
      config.setMaxBatchSize(allBatchable(signature) ? defaultMaxBatchSize : 0);
    }
    int maxBatch = config.getMaxBatchSize();
    if (config.getInputCount() == 0) {
      for (TensorSpec spec : signature.inputs()) {
        config.addInput(ModelInput.newBuilder().setName(spec.name())
            .setDataType(configType(spec.dataType())).addAllDims(dims(spec, maxBatch)));
      }
    }
    if (config.getOutputCount() == 0) {
      for (TensorSpec spec : signature.outputs()) {
        config.addOutput(ModelOutput.newBuilder().setName(spec.name())
            .setDataType(configType(spec.dataType())).addAllDims(dims(spec, maxBatch)));
      }
    }
    if (config.getInstanceGroupCount() == 0) {
      config.addInstanceGroup(ModelInstanceGroup.newBuilder().setCount(1).setKind(ModelInstanceGroup.Kind.KIND_CPU));
    }
    checkInputs(label, config, signature, maxBatch);
    checkOutputs(label, config, signature, maxBatch);
    warnOfUnreadParameters(label, config.getParametersMap().keySet(), backend);
    ModelConfig effective = config.build();
    List<String> unused = UnusedConfigFields.in(effective);
    if (!unused.isEmpty()) {
      log.warn("{}: config.pbtxt sets {}, which Junction does not implement: the model loads and runs without them",
          label, unused);
    }
    if (effective.getResponseCache().getEnable() && !responseCache) {
      log.warn("{}: config.pbtxt enables response_cache, but the server has no response cache "
          + "(--response-cache-bytes): its answers are not cached", label);
    }
    return effective;
  }

  /**
   * Parameters are free-form, so a misspelt key would silently do nothing; Triton's configs may also carry keys for
   * backends Junction does not have. Either way the model loads, and the log says which keys have no effect.
   */
  private void warnOfUnreadParameters(String label, Set<String> keys, Backend backend) {
    Set<String> read = new TreeSet<>(serverParameters);
    read.addAll(backend.modelParameters());
    List<String> unread = keys.stream().filter(key -> !read.contains(key)).sorted().toList();
    if (!unread.isEmpty()) {
      log.warn("{}: config.pbtxt parameters {} have no effect: nothing in this server reads them (it reads {})",
          label, unread, read);
    }
  }

  /** The client-facing signature of an effective config. */
  public static ServingSignature servingSignature(String label, ModelConfig config) {
    List<ServingTensor> inputs = config.getInputList().stream()
        .map(i -> new ServingTensor(i.getName(), dataType(i.getDataType()), toArray(i.getDimsList()), i.getOptional(),
            i.hasReshape() ? toArray(i.getReshape().getShapeList()) : null))
        .toList();
    List<ServingTensor> outputs = config.getOutputList().stream()
        .map(o -> new ServingTensor(o.getName(), dataType(o.getDataType()), toArray(o.getDimsList()), false,
            o.hasReshape() ? toArray(o.getReshape().getShapeList()) : null))
        .toList();
    return new ServingSignature(label, config.getMaxBatchSize(), inputs, outputs);
  }

  private static void checkInputs(String label, ModelConfig.Builder config, ModelSignature signature, int maxBatch)
      throws ModelLoadException {
    Set<String> declared = new HashSet<>();
    for (ModelInput input : config.getInputList()) {
      if (!declared.add(input.getName())) {
        throw new ModelLoadException(label + ": config.pbtxt declares input '" + input.getName() + "' twice");
      }
      TensorSpec spec = signature.input(input.getName()).orElseThrow(() -> new ModelLoadException(label
          + ": config.pbtxt declares input '" + input.getName() + "', which the model file does not have (it has "
          + names(signature.inputs()) + ")"));
      if (input.hasReshape()) {
        // The client's elements of each row, whatever dims allow, are laid out as reshape says: the reshape's one
        // dynamic dimension at most is sized by their count.
        checkReshape(label, "input", input.getName(), input.getDimsList(), input.getReshape().getShapeList(), false);
      }
      checkAgreement(label, "input", input.getName(), input.getDataType(), input.hasReshape() ? "reshape" : "dims",
          input.hasReshape() ? input.getReshape().getShapeList() : input.getDimsList(), spec, maxBatch);
    }
    for (TensorSpec spec : signature.inputs()) {
      if (!declared.contains(spec.name())) {
        throw new ModelLoadException(label + ": the model file has input '" + spec.name()
            + "', which config.pbtxt does not declare");
      }
    }
  }

  private static void checkOutputs(String label, ModelConfig.Builder config, ModelSignature signature, int maxBatch)
      throws ModelLoadException {
    Set<String> declared = new HashSet<>();
    for (ModelOutput output : config.getOutputList()) {
      if (!declared.add(output.getName())) {
        throw new ModelLoadException(label + ": config.pbtxt declares output '" + output.getName() + "' twice");
      }
      TensorSpec spec = signature.output(output.getName()).orElseThrow(() -> new ModelLoadException(label
          + ": config.pbtxt declares output '" + output.getName() + "', which the model file does not have (it has "
          + names(signature.outputs()) + ")"));
      if (output.hasReshape()) {
        // The other way round: the model's elements are laid out for the client as dims say.
        checkReshape(label, "output", output.getName(), output.getDimsList(), output.getReshape().getShapeList(), true);
      }
      checkAgreement(label, "output", output.getName(), output.getDataType(), output.hasReshape() ? "reshape" : "dims",
          output.hasReshape() ? output.getReshape().getShapeList() : output.getDimsList(), spec, maxBatch);
    }
  }

  /**
   * A reshape the server can apply to every request: sizes positive or -1, the side sized by the other's element
   * count (the reshape of an input, the dims of an output) with at most one -1, and as many elements on both sides
   * when neither has one. The reshape is then the shape the model file must have (batch dimension excluded).
   */
  private static void checkReshape(String label, String kind, String name, List<Long> dims, List<Long> reshape,
      boolean output) throws ModelLoadException {
    String what = label + ": " + kind + " '" + name + "' has dims " + dims + " and reshape " + reshape
        + " in config.pbtxt";
    for (List<Long> side : List.of(dims, reshape)) {
      if (side.stream().anyMatch(d -> d < 1 && d != Shapes.DYNAMIC)) {
        throw new ModelLoadException(what + ": sizes must be positive, or -1 for any size");
      }
    }
    List<Long> sized = output ? dims : reshape;
    if (sized.stream().filter(d -> d == Shapes.DYNAMIC).count() > 1) {
      throw new ModelLoadException(what + ": the " + (output ? "dims" : "reshape")
          + " may have one -1 at most, which the " + kind + "'s element count then sizes");
    }
    long dimsElements = fixedElements(what, dims);
    long reshapeElements = fixedElements(what, reshape);
    boolean fixed = !dims.contains(Shapes.DYNAMIC) && !reshape.contains(Shapes.DYNAMIC);
    if (fixed && dimsElements != reshapeElements) {
      throw new ModelLoadException(what + ": " + dimsElements + " elements against " + reshapeElements);
    }
  }

  /** The product of a shape's fixed sizes. */
  private static long fixedElements(String what, List<Long> dims) throws ModelLoadException {
    long p = 1;
    for (long d : dims) {
      if (d > 0) {
        try {
          p = Math.multiplyExact(p, d);
        } catch (ArithmeticException e) {
          throw new ModelLoadException(what + ": more elements than a long holds");
        }
      }
    }
    return p;
  }

  /**
   * Whether the model file's tensor is what config.pbtxt says: its type, and {@code dims} taken from config.pbtxt's
   * {@code field} ("dims", or "reshape" when the tensor has one, which is then what the model file sees).
   */
  private static void checkAgreement(String label, String kind, String name, io.junction.proto.inference.DataType type,
      String field, List<Long> dims, TensorSpec spec, int maxBatch) throws ModelLoadException {
    DataType declared = dataTypeOrNull(type);
    if (declared != spec.dataType()) {
      throw new ModelLoadException(label + ": " + kind + " '" + name + "' is " + type + " in config.pbtxt but "
          + spec.dataType().configName() + " in the model file");
    }
    long[] shape = spec.shape();
    long[] full = toArray(dims);
    if (maxBatch > 0) {
      if (shape.length == 0 || shape[0] != Shapes.DYNAMIC) {
        throw new ModelLoadException(label + ": " + kind + " '" + name + "' has shape " + Shapes.format(shape)
            + " in the model file, which has no variable batch dimension; set max_batch_size: 0");
      }
      long[] withBatch = new long[full.length + 1];
      withBatch[0] = Shapes.DYNAMIC;
      System.arraycopy(full, 0, withBatch, 1, full.length);
      full = withBatch;
    }
    if (!Shapes.matches(shape, full)) {
      throw new ModelLoadException(label + ": " + kind + " '" + name + "' has " + field + " " + dims
          + (maxBatch > 0 ? " (with max_batch_size " + maxBatch + ": " + Shapes.format(full) + ")" : "")
          + " in config.pbtxt but shape " + Shapes.format(shape) + " in the model file");
    }
  }

  private static boolean allBatchable(ModelSignature signature) {
    return signature.inputs().stream().allMatch(ModelConfigResolver::hasDynamicFirstDim)
        && signature.outputs().stream().allMatch(ModelConfigResolver::hasDynamicFirstDim);
  }

  private static boolean hasDynamicFirstDim(TensorSpec spec) {
    long[] shape = spec.shape();
    return shape.length > 0 && shape[0] == Shapes.DYNAMIC;
  }

  private static List<Long> dims(TensorSpec spec, int maxBatch) {
    long[] shape = spec.shape();
    long[] dims = maxBatch > 0 ? Arrays.copyOfRange(shape, 1, shape.length) : shape;
    return Arrays.stream(dims).boxed().toList();
  }

  private static io.junction.proto.inference.DataType configType(DataType type) {
    return io.junction.proto.inference.DataType.valueOf(type.configName());
  }

  private static DataType dataTypeOrNull(io.junction.proto.inference.DataType type) {
    return DataType.fromConfigName(type.name()).orElse(null);
  }

  private static DataType dataType(io.junction.proto.inference.DataType type) {
    return DataType.fromConfigName(type.name())
        .orElseThrow(() -> new IllegalArgumentException("no tensor type for " + type));
  }

  private static long[] toArray(List<Long> dims) {
    return dims.stream().mapToLong(Long::longValue).toArray();
  }

  private static String names(List<TensorSpec> specs) {
    return specs.stream().map(s -> "'" + s.name() + "'").collect(Collectors.joining(", ", "[", "]"));
  }

}
