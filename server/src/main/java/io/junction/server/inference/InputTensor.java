package io.junction.server.inference;

import java.util.Objects;

/**
 * One input of a call as the client declared it.
 *
 * @param datatype the protocol's datatype name ({@code FP32}, ...), checked against the model later
 * @param shape as the client sent it; not copied, so callers hand it over
 */
public record InputTensor(String name, String datatype, long[] shape, TensorPayload payload) {
  public InputTensor {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(datatype, "datatype");
    Objects.requireNonNull(shape, "shape");
    Objects.requireNonNull(payload, "payload");
  }
}
