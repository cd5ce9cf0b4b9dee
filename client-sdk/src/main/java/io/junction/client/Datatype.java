package io.junction.client;

/** Open Inference Protocol datatypes and their element sizes in raw contents. */
public enum Datatype {
  BOOL(1), UINT8(1), UINT16(2), UINT32(4), UINT64(8), INT8(1), INT16(2), INT32(4), INT64(8), FP16(2), BF16(2),
  FP32(4), FP64(8), BYTES(-1);

  private final int byteSize;

  Datatype(int byteSize) {
    this.byteSize = byteSize;
  }

  /** Bytes per element in raw contents; -1 for BYTES (length-prefixed). */
  public int byteSize() {
    return byteSize;
  }
}
