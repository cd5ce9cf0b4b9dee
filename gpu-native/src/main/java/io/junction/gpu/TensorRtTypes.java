package io.junction.gpu;

import io.junction.server.tensor.DataType;
import java.util.Optional;
import org.bytedeco.tensorrt.global.nvinfer;

/** TensorRT's element types as the protocol's; the ones the protocol has no name for are refused at load. */
final class TensorRtTypes {
  private TensorRtTypes() {}

  static Optional<DataType> toDataType(nvinfer.DataType type) {
    return Optional.ofNullable(switch (type) {
      case kFLOAT -> DataType.FP32;
      case kHALF -> DataType.FP16;
      case kBF16 -> DataType.BF16;
      case kINT8 -> DataType.INT8;
      case kUINT8 -> DataType.UINT8;
      case kINT32 -> DataType.INT32;
      case kINT64 -> DataType.INT64;
      case kBOOL -> DataType.BOOL;
      default -> null; // FP8, INT4, FP4, E8M0: no Open Inference Protocol datatype
    });
  }
}
