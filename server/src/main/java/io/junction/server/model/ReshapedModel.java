package io.junction.server.model;

import io.junction.server.backend.ExecutionTimings;
import io.junction.server.backend.LoadedModel;
import io.junction.server.backend.ModelSignature;
import io.junction.server.backend.OutputBuffers;
import io.junction.server.errors.InferenceFailedException;
import io.junction.server.errors.InvalidInputException;
import io.junction.server.tensor.Shapes;
import io.junction.server.tensor.Tensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A model version whose config.pbtxt reshapes inputs or outputs (Triton's {@code reshape}): clients send and get
 * tensors of the config's {@code dims}, the model file takes and makes them in {@code reshape.shape}, the batch
 * dimension kept in front. Row-major elements are the same either way, so each side gets a view of the other's
 * tensor, nothing copied. Models that reshape nothing are not wrapped ({@link #of}).
 */
final class ReshapedModel implements LoadedModel {
  private final ServingSignature signature;
  private final LoadedModel model;

  private ReshapedModel(ServingSignature signature, LoadedModel model) {
    this.signature = signature;
    this.model = model;
  }

  /** {@code model} as clients see it through {@code signature}: itself when no tensor of it is reshaped. */
  static LoadedModel of(ServingSignature signature, LoadedModel model) {
    boolean reshapes = signature.inputs().stream().anyMatch(ServingTensor::reshaped)
        || signature.outputs().stream().anyMatch(ServingTensor::reshaped);
    return reshapes ? new ReshapedModel(signature, model) : model;
  }

  @Override
  public ModelSignature signature() {
    return model.signature();
  }

  @Override
  public List<Tensor> run(Map<String, Tensor> inputs, List<String> outputs, ExecutionTimings timings) {
    return asServed(model.run(asModelTakesThem(inputs), outputs, timings));
  }

  @Override
  public List<Tensor> run(Map<String, Tensor> inputs, List<String> outputs, ExecutionTimings timings,
      OutputBuffers buffers) {
    return asServed(model.run(asModelTakesThem(inputs), outputs, timings, buffers));
  }

  private Map<String, Tensor> asModelTakesThem(Map<String, Tensor> inputs) {
    Map<String, Tensor> reshaped = new HashMap<>(inputs);
    for (ServingTensor input : signature.inputs()) {
      Tensor t = inputs.get(input.name());
      if (t == null || !input.reshaped()) {
        continue;
      }
      long[] shape = signature.reshapedShape(t.shape(), input.reshape());
      if (shape == null) { // requests are checked for this as they come (ServingSignature.checkInput)
        throw new InvalidInputException(signature.label() + ": input '" + input.name() + "' of shape "
            + Shapes.format(t.shape()) + " does not fit its reshape " + Shapes.format(input.reshape())
            + " (config.pbtxt)");
      }
      reshaped.put(input.name(), t.withShape(shape));
    }
    return reshaped;
  }

  private List<Tensor> asServed(List<Tensor> produced) {
    List<Tensor> served = new ArrayList<>(produced.size());
    for (Tensor t : produced) {
      ServingTensor output = signature.output(t.name()).orElse(null);
      if (output == null || !output.reshaped()) {
        served.add(t);
        continue;
      }
      long[] shape = signature.reshapedShape(t.shape(), output.dims());
      if (shape == null) {
        throw new InferenceFailedException(signature.label() + ": output '" + t.name() + "' came from the model "
            + "with shape " + Shapes.format(t.shape()) + ", which its dims " + Shapes.format(output.dims())
            + " (config.pbtxt, reshaped from " + Shapes.format(output.reshape()) + ") cannot hold");
      }
      served.add(t.withShape(shape));
    }
    return served;
  }

  @Override
  public long deviceMemoryBytes() {
    return model.deviceMemoryBytes();
  }

  @Override
  public void close() {
    model.close();
  }
}
