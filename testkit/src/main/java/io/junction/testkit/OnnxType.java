package io.junction.testkit;

/** ONNX tensor element types, with the numbers the ONNX format uses for them. */
public enum OnnxType {
  FLOAT(1, 4),
  UINT8(2, 1),
  INT8(3, 1),
  UINT16(4, 2),
  INT16(5, 2),
  INT32(6, 4),
  INT64(7, 8),
  STRING(8, -1),
  BOOL(9, 1),
  FLOAT16(10, 2),
  DOUBLE(11, 8),
  UINT32(12, 4),
  UINT64(13, 8),
  BFLOAT16(16, 2);

  private final int code;
  private final int byteSize;

  OnnxType(int code, int byteSize) {
    this.code = code;
    this.byteSize = byteSize;
  }

  public int code() {
    return code;
  }

  /** Bytes per element, or -1 for variable-length strings. */
  public int byteSize() {
    return byteSize;
  }
}
