package io.junction.server.grpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.junction.proto.inference.InferTensorContents;
import io.junction.server.errors.InvalidInputException;
import io.junction.server.tensor.DataType;
import io.junction.server.tensor.RawTensors;
import io.junction.server.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns one input's protocol contents, raw or typed, into a {@link Tensor}. The size the shape claims
 * is checked against the bytes or values actually sent before anything is allocated, so a request can
 * never make the server allocate more than it sent.
 */
final class TensorDecoder {
  private TensorDecoder() {}

  /** Raw little-endian contents: a read-only view of the bytes already received, no copy. */
  static Tensor fromRaw(String label, String name, DataType type, long[] shape, ByteBuffer raw) {
    return RawTensors.decode(label, name, type, shape, raw, "raw_input_contents");
  }

  /** Typed contents: each datatype reads exactly one field of {@link InferTensorContents}. */
  static Tensor fromTyped(String label, String name, DataType type, long[] shape, InferTensorContents contents) {
    long count = elementCount(label, name, shape);
    if (type == DataType.BYTES) {
      requireCount(label, name, type, count, contents.getBytesContentsCount(), "bytes_contents", contents);
      List<byte[]> elements = new ArrayList<>(contents.getBytesContentsCount());
      contents.getBytesContentsList().forEach(b -> elements.add(b.toByteArray()));
      return Tensor.bytes(name, shape, elements);
    }
    int n = (int) count;
    ByteBuffer data;
    switch (type) {
      case BOOL -> {
        requireCount(label, name, type, count, contents.getBoolContentsCount(), "bool_contents", contents);
        data = allocate(n, 1);
        for (int i = 0; i < n; i++) {
          data.put((byte) (contents.getBoolContents(i) ? 1 : 0));
        }
      }
      case INT8, INT16, INT32 -> {
        requireCount(label, name, type, count, contents.getIntContentsCount(), "int_contents", contents);
        data = allocate(n, type.byteSize());
        long min = type == DataType.INT8 ? Byte.MIN_VALUE : type == DataType.INT16 ? Short.MIN_VALUE : Integer.MIN_VALUE;
        long max = type == DataType.INT8 ? Byte.MAX_VALUE : type == DataType.INT16 ? Short.MAX_VALUE : Integer.MAX_VALUE;
        for (int i = 0; i < n; i++) {
          int v = contents.getIntContents(i);
          checkRange(label, name, type, i, v, min, max);
          putInt(data, type, v);
        }
      }
      case UINT8, UINT16, UINT32 -> {
        requireCount(label, name, type, count, contents.getUintContentsCount(), "uint_contents", contents);
        data = allocate(n, type.byteSize());
        long max = type == DataType.UINT8 ? 0xFF : type == DataType.UINT16 ? 0xFFFF : 0xFFFF_FFFFL;
        for (int i = 0; i < n; i++) {
          long v = Integer.toUnsignedLong(contents.getUintContents(i));
          checkRange(label, name, type, i, v, 0, max);
          putInt(data, type, (int) v);
        }
      }
      case INT64 -> {
        requireCount(label, name, type, count, contents.getInt64ContentsCount(), "int64_contents", contents);
        data = allocate(n, 8);
        for (int i = 0; i < n; i++) {
          data.putLong(contents.getInt64Contents(i));
        }
      }
      case UINT64 -> {
        requireCount(label, name, type, count, contents.getUint64ContentsCount(), "uint64_contents", contents);
        data = allocate(n, 8);
        for (int i = 0; i < n; i++) {
          data.putLong(contents.getUint64Contents(i));
        }
      }
      case FP32 -> {
        requireCount(label, name, type, count, contents.getFp32ContentsCount(), "fp32_contents", contents);
        data = allocate(n, 4);
        for (int i = 0; i < n; i++) {
          data.putFloat(contents.getFp32Contents(i));
        }
      }
      case FP64 -> {
        requireCount(label, name, type, count, contents.getFp64ContentsCount(), "fp64_contents", contents);
        data = allocate(n, 8);
        for (int i = 0; i < n; i++) {
          data.putDouble(contents.getFp64Contents(i));
        }
      }
      case FP16, BF16 -> throw new InvalidInputException(label + ": input '" + name + "' has datatype " + type
          + ", which has no typed contents in the protocol; send it in raw_input_contents");
      default -> throw new IllegalStateException("unhandled datatype " + type);
    }
    data.flip();
    return Tensor.fixed(name, type, shape, data);
  }

  /** Serialises a BYTES tensor as the protocol's raw form: each element a 4-byte LE length and the bytes. */
  static ByteString bytesToRaw(List<byte[]> elements) {
    return UnsafeByteOperations.unsafeWrap(RawTensors.encodeBytes(elements));
  }

  private static long elementCount(String label, String name, long[] shape) {
    return RawTensors.elementCount(label, name, shape);
  }

  private static void requireCount(String label, String name, DataType type, long expected, int actual,
      String field, InferTensorContents contents) {
    if (expected != actual) {
      throw new InvalidInputException(label + ": input '" + name + "' of datatype " + type + " needs " + expected
          + " values in contents." + field + ", got " + actual + populatedFields(contents));
    }
  }

  private static String populatedFields(InferTensorContents contents) {
    List<String> fields = new ArrayList<>();
    contents.getAllFields().forEach((f, v) -> fields.add(f.getName()));
    return fields.isEmpty() ? " (contents is empty)" : " (contents carries " + String.join(", ", fields) + ")";
  }

  private static void checkRange(String label, String name, DataType type, int index, long v, long min, long max) {
    if (v < min || v > max) {
      throw new InvalidInputException(label + ": input '" + name + "' element " + index + " is " + v
          + ", outside the range of " + type);
    }
  }

  private static ByteBuffer allocate(int count, int size) {
    // Heap: the batcher copies it once into the batch's direct buffer.
    return ByteBuffer.allocate(count * size).order(ByteOrder.LITTLE_ENDIAN);
  }

  private static void putInt(ByteBuffer data, DataType type, int v) {
    switch (type.byteSize()) {
      case 1 -> data.put((byte) v);
      case 2 -> data.putShort((short) v);
      default -> data.putInt(v);
    }
  }
}
