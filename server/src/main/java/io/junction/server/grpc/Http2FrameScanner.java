package io.junction.server.grpc;

import io.netty.buffer.ByteBuf;

/**
 * Finds the frames in one direction of an HTTP/2 byte stream without consuming it: type, flags, stream
 * and length of each frame header, then (for listeners that want them) the payload's bytes as they
 * come and the index where the frame ends. Frames may be split across buffers at any byte. Reads with
 * absolute indices, so the buffers pass on untouched.
 */
final class Http2FrameScanner {
  /** Told of each frame header; payload and frame ends only where a listener overrides them. */
  interface Listener {
    void frame(int type, int flags, int streamId, int length);

    /** Part of the current frame's payload: {@code length} bytes of {@code buf} from {@code index}. */
    default void payload(ByteBuf buf, int index, int length) {}

    /** The current frame ended just before {@code index} of the buffer being scanned. */
    default void frameEnd(int index) {}
  }

  static final int DATA = 0x0;
  static final int HEADERS = 0x1;
  static final int RST_STREAM = 0x3;
  static final int END_STREAM = 0x1;
  static final int PADDED = 0x8;
  /** The client connection preface, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", precedes the client's frames. */
  static final int CLIENT_PREFACE_BYTES = 24;
  private static final int HEADER_BYTES = 9;

  private final byte[] header = new byte[HEADER_BYTES];
  private int headerFill;
  /** Payload bytes of the current frame still to come; the preface's bytes before the first frame. */
  private long skip;
  private boolean inFrame;

  /** @param client whether this is the client's direction, which starts with the connection preface */
  Http2FrameScanner(boolean client) {
    this.skip = client ? CLIENT_PREFACE_BYTES : 0;
  }

  /** Whether the bytes scanned so far end exactly between two frames. */
  boolean atFrameBoundary() {
    return headerFill == 0 && skip == 0;
  }

  void scan(ByteBuf buf, Listener listener) {
    int i = buf.readerIndex();
    int end = buf.writerIndex();
    while (i < end) {
      if (skip > 0) {
        int n = (int) Math.min(skip, end - i);
        if (inFrame) {
          listener.payload(buf, i, n);
        }
        skip -= n;
        i += n;
        if (skip == 0 && inFrame) {
          inFrame = false;
          listener.frameEnd(i);
        }
        continue;
      }
      header[headerFill++] = buf.getByte(i++);
      if (headerFill == HEADER_BYTES) {
        headerFill = 0;
        int length = ((header[0] & 0xff) << 16) | ((header[1] & 0xff) << 8) | (header[2] & 0xff);
        int stream = ((header[5] & 0x7f) << 24) | ((header[6] & 0xff) << 16) | ((header[7] & 0xff) << 8)
            | (header[8] & 0xff);
        listener.frame(header[3] & 0xff, header[4] & 0xff, stream, length);
        skip = length;
        inFrame = length > 0;
        if (length == 0) {
          listener.frameEnd(i);
        }
      }
    }
  }
}
