package io.junction.server.it;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.netty.handler.codec.http2.Http2Headers;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A gRPC client written frame by frame, for what real clients never do: stop in the middle of a
 * message, hold many messages half sent, or take answers only as fast as it chooses: it returns no window for what
 * it receives unless told to ({@link #grant}), or, made with a stream window of its own, returns the window of every
 * DATA frame as it reads it, as a client reading through a small buffer does. It honours HTTP/2 flow control
 * (waits for the server's window before sending DATA) and reads every stream's end: its grpc-status and
 * grpc-message, or a reset. Every header block it receives is kept as sent ({@link HpackFields}), HPACK representations included.
 */
final class RawHttp2Connection implements AutoCloseable {
  private static final int MAX_FRAME = 16_384;

  private final Socket socket;
  private final OutputStream out;
  private final DefaultHttp2HeadersEncoder encoder = new DefaultHttp2HeadersEncoder();
  private final Map<Integer, CompletableFuture<String>> ends = new ConcurrentHashMap<>();
  private final Map<Integer, Long> streamWindows = new ConcurrentHashMap<>();
  private final Map<Integer, List<List<HpackFields.Field>>> headerBlocks = new ConcurrentHashMap<>();
  private final Thread reader;
  private long connectionWindow = 65_535;
  private long initialStreamWindow = 65_535;
  private int nextStream = 1;
  private final boolean returnsEveryFrame;
  private volatile boolean closedByServer;

  RawHttp2Connection(int port) throws IOException {
    this(port, 0);
  }

  /**
   * @param streamWindow when positive, the window the server gets on each stream (SETTINGS_INITIAL_WINDOW_SIZE), so
   *     its DATA frames are at most that long, and the client returns each frame's window (stream and connection)
   *     as it reads it; when 0 the default window and no window returned unless granted
   */
  RawHttp2Connection(int port, int streamWindow) throws IOException {
    socket = new Socket("127.0.0.1", port);
    socket.setTcpNoDelay(true); // small frames answered one by one would otherwise wait out delayed ACKs, 40 ms each
    out = socket.getOutputStream();
    returnsEveryFrame = streamWindow > 0;
    write(Unpooled.wrappedBuffer("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII)));
    write(frame(0x4, 0, 0, streamWindow > 0
        ? Unpooled.buffer(6).writeShort(0x4).writeInt(streamWindow) : Unpooled.EMPTY_BUFFER));
    DataInputStream in = new DataInputStream(socket.getInputStream());
    reader = new Thread(() -> read(in), "raw-http2-reader");
    reader.setDaemon(true);
    reader.start();
  }

  /** Opens a stream for a gRPC method (its full path, "/package.Service/Method"). */
  synchronized int open(String path) throws Exception {
    int stream = nextStream;
    nextStream += 2;
    ends.put(stream, new CompletableFuture<>());
    streamWindows.put(stream, initialStreamWindow);
    Http2Headers headers = new DefaultHttp2Headers().method("POST").scheme("http").authority("junction").path(path)
        .set("content-type", "application/grpc").set("te", "trailers");
    ByteBuf block = Unpooled.buffer();
    encoder.encodeHeaders(stream, headers, block);
    write(frame(0x1, 0x4, stream, block));
    return stream;
  }

  /** The 5-byte gRPC prefix of an uncompressed message of {@code length} bytes. */
  static byte[] prefix(int length) {
    return new byte[] {0, (byte) (length >>> 24), (byte) (length >>> 16), (byte) (length >>> 8), (byte) length};
  }

  /** Sends bytes on a stream as DATA frames, as fast as the server's windows allow. */
  void send(int stream, byte[] bytes, boolean endStream) throws Exception {
    int offset = 0;
    do {
      int n;
      synchronized (this) {
        while (true) {
          if (closedByServer) {
            throw new IOException("the server closed the connection");
          }
          if (ends.get(stream).isDone()) {
            return; // ended by the server: nothing more to send
          }
          long window = Math.min(connectionWindow, streamWindows.get(stream));
          n = (int) Math.min(Math.min(MAX_FRAME, bytes.length - offset), window);
          if (n > 0 || bytes.length == offset) {
            break;
          }
          wait(100);
        }
        connectionWindow -= n;
        streamWindows.merge(stream, (long) -n, Long::sum);
        boolean last = offset + n == bytes.length;
        write(frame(0x0, last && endStream ? 0x1 : 0, stream, Unpooled.wrappedBuffer(bytes, offset, n)));
      }
      offset += n;
    } while (offset < bytes.length);
  }

  /** Lets the server send {@code bytes} more on the stream (and the connection): what a reading client does. */
  void grant(int stream, int bytes) throws IOException {
    for (int id : new int[] {0, stream}) {
      write(frame(0x8, 0, id, Unpooled.buffer(4).writeInt(bytes)));
    }
  }

  /** How the stream ended: "grpc-status N: message", or "reset N". */
  CompletableFuture<String> end(int stream) {
    return ends.get(stream);
  }

  /** The header blocks received on a stream so far, in order: the answer's headers, then its trailers. */
  List<List<HpackFields.Field>> headerBlocks(int stream) {
    return headerBlocks.getOrDefault(stream, List.of());
  }

  boolean closedByServer() {
    return closedByServer;
  }

  private synchronized void write(ByteBuf buf) throws IOException {
    byte[] bytes = new byte[buf.readableBytes()];
    buf.readBytes(bytes);
    out.write(bytes);
    out.flush();
  }

  private static ByteBuf frame(int type, int flags, int stream, ByteBuf payload) {
    ByteBuf frame = Unpooled.buffer(9 + payload.readableBytes());
    frame.writeMedium(payload.readableBytes()).writeByte(type).writeByte(flags).writeInt(stream).writeBytes(payload);
    return frame;
  }

  private void read(DataInputStream in) {
    HpackFields decoder = new HpackFields();
    try {
      while (true) {
        int length = (in.readUnsignedByte() << 16) | (in.readUnsignedByte() << 8) | in.readUnsignedByte();
        int type = in.readUnsignedByte();
        int flags = in.readUnsignedByte();
        int stream = in.readInt() & 0x7fffffff;
        byte[] payload = new byte[length];
        in.readFully(payload);
        ByteBuf body = Unpooled.wrappedBuffer(payload);
        switch (type) {
          case 0x1 -> { // HEADERS (the server sends neither padding nor priority): the stream's end when END_STREAM
            List<HpackFields.Field> fields = decoder.read(stream, payload);
            headerBlocks.computeIfAbsent(stream, s -> new CopyOnWriteArrayList<>()).add(fields);
            if ((flags & 0x1) != 0 && ends.containsKey(stream)) {
              String message = value(fields, "grpc-message");
              ends.get(stream).complete("grpc-status " + value(fields, "grpc-status")
                  + (message == null ? "" : ": " + message));
            }
          }
          case 0x3 -> { // RST_STREAM
            if (ends.containsKey(stream)) {
              ends.get(stream).complete("reset " + body.readInt());
            }
          }
          case 0x4 -> { // SETTINGS
            if ((flags & 0x1) == 0) {
              while (body.isReadable()) {
                int id = body.readUnsignedShort();
                long value = body.readUnsignedInt();
                if (id == 0x4) {
                  synchronized (this) {
                    long change = value - initialStreamWindow;
                    initialStreamWindow = value;
                    streamWindows.replaceAll((s, w) -> w + change);
                    notifyAll();
                  }
                }
              }
              write(frame(0x4, 0x1, 0, Unpooled.EMPTY_BUFFER));
            }
          }
          case 0x6 -> { // PING
            if ((flags & 0x1) == 0) {
              write(frame(0x6, 0x1, 0, body));
            }
          }
          case 0x8 -> { // WINDOW_UPDATE
            long increment = body.readUnsignedInt() & 0x7fffffffL;
            synchronized (this) {
              if (stream == 0) {
                connectionWindow += increment;
              } else {
                streamWindows.computeIfPresent(stream, (s, w) -> w + increment);
              }
              notifyAll();
            }
          }
          case 0x0 -> { // DATA: not read; the whole payload, padding included, counts against the windows
            if (returnsEveryFrame && length > 0) {
              write(frame(0x8, 0, 0, Unpooled.buffer(4).writeInt(length)));
              if ((flags & 0x1) == 0) {
                write(frame(0x8, 0, stream, Unpooled.buffer(4).writeInt(length)));
              }
            }
          }
          default -> { } // GOAWAY, ...
        }
      }
    } catch (Exception e) {
      closedByServer = true;
      ends.values().forEach(f -> f.complete("connection closed"));
      synchronized (this) {
        notifyAll();
      }
    }
  }

  private static String value(List<HpackFields.Field> fields, String name) {
    return fields.stream().filter(f -> f.name().equals(name)).map(HpackFields.Field::value).findFirst().orElse(null);
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
