package io.junction.server.it;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Reads HTTP/2 header blocks as they were sent: each field's name and value with the HPACK representation its
 * sender chose (RFC 7541 §6), which decoded headers no longer show. One instance per direction of a connection:
 * its decoder's dynamic table follows the sender's, so every block must be read, in order.
 */
final class HpackFields {
  /** How a header field is represented in a block. */
  enum Representation {
    /** A reference to a table entry. */
    INDEXED,
    /** A literal the receiver adds to its dynamic table. */
    LITERAL_INDEXED,
    /** A literal not added to the table. */
    LITERAL_NOT_INDEXED,
    /** A literal not added to the table by this receiver or any intermediary. */
    LITERAL_NEVER_INDEXED
  }

  record Field(String name, String value, Representation representation) {}

  private final DefaultHttp2HeadersDecoder decoder = new DefaultHttp2HeadersDecoder(false);

  /** The fields of one header block (a HEADERS frame's payload, without padding or priority), in order. */
  List<Field> read(int stream, byte[] block) throws Http2Exception {
    List<Representation> representations = representations(Unpooled.wrappedBuffer(block));
    ByteBuf encoded = Unpooled.wrappedBuffer(block);
    Http2Headers decoded;
    try {
      decoded = decoder.decodeHeaders(stream, encoded);
    } finally {
      encoded.release();
    }
    List<Field> fields = new ArrayList<>();
    for (Map.Entry<CharSequence, CharSequence> h : decoded) {
      if (fields.size() == representations.size()) {
        throw new IllegalStateException("more headers decoded than fields read in the block");
      }
      fields.add(new Field(h.getKey().toString(), h.getValue().toString(), representations.get(fields.size())));
    }
    if (fields.size() != representations.size()) {
      throw new IllegalStateException(representations.size() + " fields read in the block, " + fields.size() + " decoded");
    }
    return fields;
  }

  /** The representation of each field of a block, in order (dynamic table size updates are not fields). */
  static List<Representation> representations(ByteBuf block) {
    List<Representation> fields = new ArrayList<>();
    while (block.isReadable()) {
      int first = block.getUnsignedByte(block.readerIndex());
      if ((first & 0x80) != 0) {
        integer(block, 7);
        fields.add(Representation.INDEXED);
      } else if ((first & 0x40) != 0) {
        literal(block, 6);
        fields.add(Representation.LITERAL_INDEXED);
      } else if ((first & 0x20) != 0) {
        integer(block, 5);
      } else {
        literal(block, 4);
        fields.add((first & 0x10) != 0 ? Representation.LITERAL_NEVER_INDEXED : Representation.LITERAL_NOT_INDEXED);
      }
    }
    return fields;
  }

  /** Skips a literal field: its name's index in a prefix of {@code bits} (0: a literal name follows), its value. */
  private static void literal(ByteBuf block, int bits) {
    if (integer(block, bits) == 0) {
      block.skipBytes((int) integer(block, 7));
    }
    block.skipBytes((int) integer(block, 7));
  }

  /** An HPACK integer in a prefix of {@code bits} (RFC 7541 §5.1); a string's Huffman flag lies above its prefix. */
  private static long integer(ByteBuf block, int bits) {
    int max = (1 << bits) - 1;
    long value = block.readUnsignedByte() & max;
    if (value < max) {
      return value;
    }
    int shift = 0;
    int b;
    do {
      b = block.readUnsignedByte();
      value += (long) (b & 0x7f) << shift;
      shift += 7;
    } while ((b & 0x80) != 0);
    return value;
  }
}
