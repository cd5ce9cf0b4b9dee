package io.junction.loadtest.check;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.junction.golden.ActualOutput;
import io.junction.golden.GoldenCase;
import io.junction.golden.GoldenTensor;
import io.junction.proto.inference.InferTensorContents;
import io.junction.proto.inference.ModelInferRequest;
import io.junction.proto.inference.ModelInferResponse;
import java.util.ArrayList;
import java.util.List;

/** Golden cases to Open Inference Protocol requests, and answers back to what a comparison reads. */
final class ProtoGolden {
  private ProtoGolden() {}

  /** The case's inputs as raw contents (every datatype has a raw form), asking for its expected outputs. */
  static ModelInferRequest request(GoldenCase golden, String model, String version) {
    ModelInferRequest.Builder request = ModelInferRequest.newBuilder().setModelName(model).setModelVersion(version)
        .setId(golden.name());
    for (GoldenTensor t : golden.inputs()) {
      ModelInferRequest.InferInputTensor.Builder input = ModelInferRequest.InferInputTensor.newBuilder()
          .setName(t.name()).setDatatype(t.datatype());
      for (long d : t.shape()) {
        input.addShape(d);
      }
      request.addInputs(input).addRawInputContents(UnsafeByteOperations.unsafeWrap(t.data()));
    }
    golden.outputNames().forEach(name ->
        request.addOutputs(ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName(name)));
    return request.build();
  }

  /** Each output of the answer, from its raw contents or its typed contents. */
  static List<ActualOutput> outputs(ModelInferResponse answer) {
    List<ActualOutput> out = new ArrayList<>();
    for (int i = 0; i < answer.getOutputsCount(); i++) {
      ModelInferResponse.InferOutputTensor t = answer.getOutputs(i);
      long[] shape = t.getShapeList().stream().mapToLong(Long::longValue).toArray();
      if (answer.getRawOutputContentsCount() > i) {
        ByteString raw = answer.getRawOutputContents(i);
        out.add(ActualOutput.of(GoldenTensor.of(t.getName(), t.getDatatype(), shape, raw.toByteArray())));
      } else if (t.getDatatype().equals("BYTES")) {
        out.add(ActualOutput.strings(t.getName(), shape,
            t.getContents().getBytesContentsList().stream().map(ByteString::toStringUtf8).toList()));
      } else {
        out.add(ActualOutput.numbers(t.getName(), shape, typed(t.getContents())));
      }
    }
    return out;
  }

  private static double[] typed(InferTensorContents c) {
    if (c.getFp32ContentsCount() > 0) {
      return c.getFp32ContentsList().stream().mapToDouble(Float::doubleValue).toArray();
    }
    if (c.getFp64ContentsCount() > 0) {
      return c.getFp64ContentsList().stream().mapToDouble(Double::doubleValue).toArray();
    }
    if (c.getIntContentsCount() > 0) {
      return c.getIntContentsList().stream().mapToDouble(Integer::doubleValue).toArray();
    }
    if (c.getInt64ContentsCount() > 0) {
      return c.getInt64ContentsList().stream().mapToDouble(Long::doubleValue).toArray();
    }
    if (c.getUintContentsCount() > 0) {
      return c.getUintContentsList().stream().mapToDouble(Integer::toUnsignedLong).toArray();
    }
    if (c.getUint64ContentsCount() > 0) {
      return c.getUint64ContentsList().stream().mapToDouble(v -> Double.parseDouble(Long.toUnsignedString(v))).toArray();
    }
    return c.getBoolContentsList().stream().mapToDouble(v -> v ? 1 : 0).toArray();
  }
}
