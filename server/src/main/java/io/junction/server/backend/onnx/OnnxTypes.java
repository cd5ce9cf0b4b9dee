package io.junction.server.backend.onnx;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.TensorInfo.OnnxTensorType;
import io.junction.server.tensor.DataType;
import java.util.Optional;

/** Between ONNX Runtime's element types and Junction's. */
final class OnnxTypes {
  private OnnxTypes() {}

  /**
   * The Junction type for an ONNX element type that ONNX Runtime's Java API can exchange, or empty:
   * the Java API has no way to create or read UINT16, UINT32 and UINT64 tensors, nor complex and
   * float8 ones.
   */
  static Optional<DataType> toDataType(OnnxTensorType type) {
    return Optional.ofNullable(switch (type) {
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL -> DataType.BOOL;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8 -> DataType.UINT8;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8 -> DataType.INT8;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT16 -> DataType.INT16;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32 -> DataType.INT32;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64 -> DataType.INT64;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16 -> DataType.FP16;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_BFLOAT16 -> DataType.BF16;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT -> DataType.FP32;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE -> DataType.FP64;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING -> DataType.BYTES;
      default -> null;
    });
  }

  /** The name ONNX uses for a type, for messages: {@code tensor(uint32)}. */
  static String onnxName(OnnxTensorType type) {
    String n = type.name().substring("ONNX_TENSOR_ELEMENT_DATA_TYPE_".length()).toLowerCase();
    return "tensor(" + n + ")";
  }

  static OnnxJavaType toJavaType(DataType type) {
    return switch (type) {
      case BOOL -> OnnxJavaType.BOOL;
      case UINT8 -> OnnxJavaType.UINT8;
      case INT8 -> OnnxJavaType.INT8;
      case INT16 -> OnnxJavaType.INT16;
      case INT32 -> OnnxJavaType.INT32;
      case INT64 -> OnnxJavaType.INT64;
      case FP16 -> OnnxJavaType.FLOAT16;
      case BF16 -> OnnxJavaType.BFLOAT16;
      case FP32 -> OnnxJavaType.FLOAT;
      case FP64 -> OnnxJavaType.DOUBLE;
      case BYTES -> OnnxJavaType.STRING;
      case UINT16, UINT32, UINT64 -> throw new IllegalArgumentException(
          "ONNX Runtime's Java API cannot create " + type + " tensors");
    };
  }
}
