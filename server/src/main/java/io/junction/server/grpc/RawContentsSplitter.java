package io.junction.server.grpc;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Splits a {@code ModelInferRequest}'s wire bytes into its {@code raw_input_contents} (views of the
 * bytes, not copied) and everything else (copied; small). Protobuf-java parses a direct buffer by first
 * copying all of it to the heap, so a request held in direct memory is parsed this way instead: the
 * rest by protobuf, the raw contents left where they are. Only the top level is read here, field by
 * field as the wire format frames them; what the fields hold is protobuf's to judge.
 */
final class RawContentsSplitter {
  /** {@code ModelInferRequest.raw_input_contents}. */
  static final int RAW_INPUT_CONTENTS = 7;

  /** The request without its raw contents, and the raw contents in the order they came. */
  record Split(byte[] rest, List<ByteBuffer> rawContents) {}

  private RawContentsSplitter() {}

  static Split split(ByteBuffer message) throws InvalidProtocolBufferException {
    ByteBuffer in = message.duplicate();
    List<ByteBuffer> raw = new ArrayList<>(4);
    // The other fields as [start, end) ranges of the message, neighbours merged: usually one or two.
    List<int[]> kept = new ArrayList<>(4);
    int keptBytes = 0;
    while (in.hasRemaining()) {
      int start = in.position();
      // Tags and lengths are read as protobuf reads them: the low 32 bits of the varint, so that a message means
      // the same here as in protobuf's parse of the rest.
      int tag = (int) readVarint(in);
      int field = tag >>> 3;
      int type = tag & 7;
      if (field == 0) {
        throw new InvalidProtocolBufferException("field number 0 is not valid");
      }
      switch (type) {
        case WireFormat.WIRETYPE_VARINT -> readVarint(in);
        case WireFormat.WIRETYPE_FIXED64 -> skip(in, 8);
        case WireFormat.WIRETYPE_FIXED32 -> skip(in, 4);
        case WireFormat.WIRETYPE_LENGTH_DELIMITED -> {
          int length = (int) readVarint(in);
          if (length < 0) {
            throw new InvalidProtocolBufferException("field " + field + " claims a negative length, " + length);
          }
          if (length > in.remaining()) {
            throw new InvalidProtocolBufferException("field " + field + " claims " + length + " bytes, only "
                + in.remaining() + " follow");
          }
          if (field == RAW_INPUT_CONTENTS) {
            raw.add(in.slice(in.position(), length));
            in.position(in.position() + length);
            continue;
          }
          skip(in, length);
        }
        default -> throw new InvalidProtocolBufferException("field " + field + " has wire type " + type
            + ", which a ModelInferRequest never uses");
      }
      int[] last = kept.isEmpty() ? null : kept.get(kept.size() - 1);
      if (last != null && last[1] == start) {
        last[1] = in.position();
      } else {
        kept.add(new int[] {start, in.position()});
      }
      keptBytes += in.position() - start;
    }
    byte[] rest = new byte[keptBytes];
    int at = 0;
    for (int[] range : kept) {
      message.get(range[0], rest, at, range[1] - range[0]);
      at += range[1] - range[0];
    }
    return new Split(rest, raw);
  }

  private static long readVarint(ByteBuffer in) throws InvalidProtocolBufferException {
    long value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (!in.hasRemaining()) {
        throw new InvalidProtocolBufferException("the message ends inside a varint");
      }
      byte b = in.get();
      value |= (long) (b & 0x7F) << shift;
      if (b >= 0) {
        return value;
      }
    }
    throw new InvalidProtocolBufferException("a varint longer than ten bytes");
  }

  private static void skip(ByteBuffer in, long bytes) throws InvalidProtocolBufferException {
    if (bytes > in.remaining()) {
      throw new InvalidProtocolBufferException("the message ends inside a field");
    }
    in.position(in.position() + (int) bytes);
  }
}
