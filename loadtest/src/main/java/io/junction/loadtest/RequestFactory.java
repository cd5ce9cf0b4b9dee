package io.junction.loadtest;

import com.google.protobuf.ByteString;
import io.junction.proto.inference.ModelInferRequest;
import io.junction.proto.inference.ModelMetadataResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/**
 * Builds a request with random values of the right datatype and shape for every input of a model, from
 * its ModelMetadata: the first variable dimension is the batch ({@code --batch}), any other is 1.
 */
public final class RequestFactory {
  private RequestFactory() {}

  public static ModelInferRequest fromMetadata(ModelMetadataResponse metadata, String model, String version, int batch,
      long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    ModelInferRequest.Builder request = ModelInferRequest.newBuilder().setModelName(model).setModelVersion(version);
    for (ModelMetadataResponse.TensorMetadata input : metadata.getInputsList()) {
      ModelInferRequest.InferInputTensor.Builder tensor = ModelInferRequest.InferInputTensor.newBuilder()
          .setName(input.getName()).setDatatype(input.getDatatype());
      long count = 1;
      for (int i = 0; i < input.getShapeCount(); i++) {
        long d = input.getShape(i);
        long dim = d >= 0 ? d : (i == 0 ? batch : 1);
        tensor.addShape(dim);
        count = Math.multiplyExact(count, dim);
      }
      request.addInputs(tensor).addRawInputContents(randomRaw(input.getDatatype(), count, random));
    }
    return request.build();
  }

  private static ByteString randomRaw(String datatype, long count, SplittableRandom random) {
    if ("BYTES".equals(datatype)) {
      ByteString.Output out = ByteString.newOutput();
      for (long i = 0; i < count; i++) {
        byte[] text = Long.toHexString(random.nextLong()).getBytes(StandardCharsets.UTF_8);
        out.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(text.length).array(), 0, 4);
        out.write(text, 0, text.length);
      }
      return out.toByteString();
    }
    int size = switch (datatype) {
      case "BOOL", "UINT8", "INT8" -> 1;
      case "UINT16", "INT16", "FP16", "BF16" -> 2;
      case "UINT32", "INT32", "FP32" -> 4;
      case "UINT64", "INT64", "FP64" -> 8;
      default -> throw new IllegalArgumentException("unknown datatype " + datatype);
    };
    ByteBuffer data = ByteBuffer.allocate(Math.toIntExact(count * size)).order(ByteOrder.LITTLE_ENDIAN);
    for (long i = 0; i < count; i++) {
      switch (datatype) {
        case "FP32" -> data.putFloat((float) random.nextDouble(-1, 1));
        case "FP64" -> data.putDouble(random.nextDouble(-1, 1));
        case "BOOL" -> data.put((byte) random.nextInt(2));
        default -> {
          for (int b = 0; b < size; b++) {
            // Small non-negative values: valid as indices, finite as half floats.
            data.put((byte) (b == 0 ? random.nextInt(16) : 0));
          }
        }
      }
    }
    return ByteString.copyFrom(data.array());
  }
}
