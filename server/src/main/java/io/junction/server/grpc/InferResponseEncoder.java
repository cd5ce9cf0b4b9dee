package io.junction.server.grpc;

import com.google.protobuf.UnsafeByteOperations;
import io.junction.proto.inference.ModelInferResponse;
import io.junction.proto.inference.ModelInferResponse.InferOutputTensor;
import io.junction.server.scheduling.InferenceResult;
import io.junction.server.tensor.DataType;
import io.junction.server.tensor.Tensor;

/** A domain result to ModelInferResponse, outputs always in {@code raw_output_contents}. */
final class InferResponseEncoder {
  private InferResponseEncoder() {}

  static ModelInferResponse encode(InferenceResult result) {
    ModelInferResponse.Builder response = ModelInferResponse.newBuilder()
        .setModelName(result.modelName())
        .setModelVersion(Long.toString(result.modelVersion()))
        .setId(result.id());
    for (Tensor output : result.outputs()) {
      InferOutputTensor.Builder meta = InferOutputTensor.newBuilder()
          .setName(output.name())
          .setDatatype(output.dataType().wireName());
      for (long d : output.shape()) {
        meta.addShape(d);
      }
      response.addOutputs(meta);
      // The output buffer belongs to this response alone, so it is wrapped rather than copied again.
      response.addRawOutputContents(output.dataType() == DataType.BYTES
          ? TensorDecoder.bytesToRaw(output.elements())
          : UnsafeByteOperations.unsafeWrap(output.unsafeData()));
    }
    return response.build();
  }
}
