package io.junction.server.grpc;

import io.netty.buffer.ByteBuf;

/**
 * Finds the frame headers in one direction of an HTTP/2 byte stream without consuming it: type, flags
 * and stream of each frame, payloads skipped. Frames may be split across buffers at any byte. Reads
 * with absolute indices, so the buffers pass on untouched.
 */
final class Http2FrameScanner {
  /** Told of each frame header. */
  interface Listener {
    void frame(int type, int flags, int streamId);
  }

  static final int DATA = 0x0;
  static final int HEADERS = 0x1;
  static final int RST_STREAM = 0x3;
  static final int END_STREAM = 0x1;
  /** The client connection preface, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", precedes the client's frames. */
  static final int CLIENT_PREFACE_BYTES = 24;
  private static final int HEADER_BYTES = 9;

  private final byte[] header = new byte[HEADER_BYTES];
  private int headerFill;
  private long skip;

  /** @param client whether this is the client's direction, which starts with the connection preface */
  Http2FrameScanner(boolean client) {
    this.skip = client ? CLIENT_PREFACE_BYTES : 0;
  }

  void scan(ByteBuf buf, Listener listener) {
    int i = buf.readerIndex();
    int end = buf.writerIndex();
    while (i < end) {
      if (skip > 0) {
        int n = (int) Math.min(skip, end - i);
        skip -= n;
        i += n;
        continue;
      }
      header[headerFill++] = buf.getByte(i++);
      if (headerFill == HEADER_BYTES) {
        headerFill = 0;
        skip = ((header[0] & 0xff) << 16) | ((header[1] & 0xff) << 8) | (header[2] & 0xff);
        int stream = ((header[5] & 0x7f) << 24) | ((header[6] & 0xff) << 16) | ((header[7] & 0xff) << 8)
            | (header[8] & 0xff);
        listener.frame(header[3] & 0xff, header[4] & 0xff, stream);
      }
    }
  }
}
