package io.junction.server.grpc;

import com.google.protobuf.UnsafeByteOperations;
import io.junction.proto.inference.InferParameter;
import io.junction.proto.inference.ModelInferResponse;
import io.junction.proto.inference.ModelInferResponse.InferOutputTensor;
import io.junction.server.inference.InferenceOutcome;
import io.junction.server.routing.RouteDecision;
import io.junction.server.scheduling.InferenceResult;
import io.junction.server.tensor.DataType;
import io.junction.server.tensor.Tensor;

/**
 * A successful outcome to ModelInferResponse, outputs always in {@code raw_output_contents}; a routed
 * answer also names its route and variant in the response parameters {@code junction_route} and
 * {@code junction_variant} (stream clients see no headers per answer).
 */
final class InferResponseEncoder {
  static final String ROUTE_PARAMETER = "junction_route";
  static final String VARIANT_PARAMETER = "junction_variant";

  private InferResponseEncoder() {}

  static ModelInferResponse encode(InferenceOutcome outcome) {
    InferenceResult result = outcome.result();
    ModelInferResponse.Builder response = ModelInferResponse.newBuilder()
        .setModelName(result.modelName())
        .setModelVersion(Long.toString(result.modelVersion()))
        .setId(result.id());
    for (Tensor output : result.outputs()) {
      InferOutputTensor.Builder meta = InferOutputTensor.newBuilder()
          .setName(output.name())
          .setDatatype(output.dataType().wireName());
      for (int d = 0; d < output.rank(); d++) {
        meta.addShape(output.dim(d));
      }
      response.addOutputs(meta);
      // The output buffer belongs to this response alone, so it is wrapped rather than copied again.
      response.addRawOutputContents(output.dataType() == DataType.BYTES
          ? TensorDecoder.bytesToRaw(output.elements())
          : UnsafeByteOperations.unsafeWrap(output.unsafeData()));
    }
    RouteDecision route = outcome.route();
    if (route != null) {
      response.putParameters(ROUTE_PARAMETER, InferParameter.newBuilder().setStringParam(route.route().name()).build())
          .putParameters(VARIANT_PARAMETER, InferParameter.newBuilder().setStringParam(route.variant().name()).build());
    }
    return response.build();
  }
}
