package io.junction.server.tensor;

import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Tensor element types with their Open Inference Protocol names ({@code FP32}) and Triton model
 * configuration names ({@code TYPE_FP32}).
 */
public enum DataType {
  BOOL(1),
  UINT8(1),
  UINT16(2),
  UINT32(4),
  UINT64(8),
  INT8(1),
  INT16(2),
  INT32(4),
  INT64(8),
  FP16(2),
  BF16(2),
  FP32(4),
  FP64(8),
  /** Variable-length byte strings; on the wire each element is a 4-byte length and the bytes. */
  BYTES(-1);

  private static final Map<String, DataType> BY_WIRE_NAME =
      Arrays.stream(values()).collect(Collectors.toUnmodifiableMap(DataType::wireName, Function.identity()));

  private final int byteSize;

  DataType(int byteSize) {
    this.byteSize = byteSize;
  }

  /** Bytes per element; -1 for {@link #BYTES}. */
  public int byteSize() {
    return byteSize;
  }

  public boolean isFixedSize() {
    return byteSize > 0;
  }

  /** The protocol's name, e.g. {@code FP32}. */
  public String wireName() {
    return name();
  }

  /** The name used in {@code config.pbtxt}, e.g. {@code TYPE_FP32}; BYTES is {@code TYPE_STRING}. */
  public String configName() {
    return this == BYTES ? "TYPE_STRING" : "TYPE_" + name();
  }

  public static Optional<DataType> fromWireName(String name) {
    return Optional.ofNullable(BY_WIRE_NAME.get(name));
  }

  public static Optional<DataType> fromConfigName(String configName) {
    if ("TYPE_STRING".equals(configName)) {
      return Optional.of(BYTES);
    }
    if (configName == null || !configName.startsWith("TYPE_")) {
      return Optional.empty();
    }
    return fromWireName(configName.substring("TYPE_".length()));
  }
}
