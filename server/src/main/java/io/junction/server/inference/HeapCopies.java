package io.junction.server.inference;

import io.junction.server.tensor.DataType;
import io.junction.server.tensor.Tensor;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * Tensor contents copied onto the heap, for what the {@link ResponseCache} keeps past the request: a fixed-size
 * tensor's bytes, or a BYTES tensor's elements.
 */
final class HeapCopies {
  /** What a BYTES element costs the heap beyond its bytes: its array's header. */
  private static final long ARRAY_HEADER_BYTES = 16;

  private HeapCopies() {}

  /** A read-only heap copy of {@code data}'s remaining bytes, at position 0. */
  static ByteBuffer of(ByteBuffer data) {
    return ByteBuffer.allocate(data.remaining()).put(data.duplicate()).flip().asReadOnlyBuffer();
  }

  static List<byte[]> of(List<byte[]> elements) {
    return elements.stream().map(byte[]::clone).toList();
  }

  /** The heap a copy of {@code t}'s contents takes. */
  static long bytes(Tensor t) {
    return t.dataType() == DataType.BYTES ? bytes(null, t.elements()) : bytes(t.data(), null);
  }

  /** The heap the contents take: {@code data}'s bytes, or else the elements' with their arrays' headers. */
  static long bytes(ByteBuffer data, List<byte[]> elements) {
    if (data != null) {
      return data.remaining();
    }
    long n = 0;
    for (byte[] e : elements) {
      n += e.length + ARRAY_HEADER_BYTES;
    }
    return n;
  }
}
