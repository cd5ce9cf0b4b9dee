package io.junction.server.it;

import static io.junction.server.InferRequests.rawFp32;
import static org.assertj.core.api.Assertions.assertThat;

import io.junction.server.JunctionServer;
import io.junction.server.TestServer;
import io.junction.server.config.ServerConfig;
import io.junction.server.telemetry.Telemetry;
import io.junction.testkit.DeepMlp;
import io.junction.testkit.ModelRepositoryWriter;
import io.junction.testkit.OtlpReceiver;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.netty.handler.codec.http2.Http2Headers;
import java.io.DataInputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The trace id every answer carries ({@code x-trace-id}) is new with every call, so the server sends it as an HPACK
 * literal that is never indexed: were it indexed, each call's id would enter the dynamic table of both ends and push
 * out the headers that calls repeat. Read here off the wire, as HPACK representations, by a client written frame by
 * frame: after the first answer, an answer's headers add nothing to the table.
 */
class TraceIdHeaderEncodingTest {
  private static final int CALLS = 100;

  @TempDir Path repo;

  /** How an HPACK block represents a header field (RFC 7541 §6). */
  enum Representation { INDEXED, LITERAL_INDEXED, LITERAL_NOT_INDEXED, LITERAL_NEVER_INDEXED }

  record Field(String name, Representation representation) {}

  @Test
  void answersSendTheirTraceIdAsANeverIndexedLiteral() throws Exception {
    new ModelRepositoryWriter(repo).model("m", 1, DeepMlp.seeded(1, 8, 8, 4).onnx()).config("m", "max_batch_size: 8\n");
    byte[] message = rawFp32("m", "", "x", new float[8], 1, 8).toByteArray();
    // Traced, none of it sampled: every call still gets a trace id of its own, and answers with it.
    try (OtlpReceiver receiver = new OtlpReceiver();
        TestServer server = TestServer.start(new JunctionServer(ServerConfig.loopback(repo),
            Telemetry.autoconfigured(Map.of("otel.traces.exporter", "otlp", "otel.exporter.otlp.protocol", "grpc",
                "otel.exporter.otlp.endpoint", receiver.endpoint(), "otel.traces.sampler", "always_off"))));
        Socket socket = new Socket("127.0.0.1", server.server().grpcPort())) {
      socket.setSoTimeout(20_000);
      OutputStream out = socket.getOutputStream();
      DataInputStream in = new DataInputStream(socket.getInputStream());
      write(out, Unpooled.wrappedBuffer("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII)));
      write(out, frame(0x4, 0, 0, Unpooled.EMPTY_BUFFER));
      DefaultHttp2HeadersEncoder encoder = new DefaultHttp2HeadersEncoder();
      DefaultHttp2HeadersDecoder decoder = new DefaultHttp2HeadersDecoder(false);
      Http2Headers request = new DefaultHttp2Headers().method("POST").scheme("http").authority("junction")
          .path("/inference.GRPCInferenceService/ModelInfer").set("content-type", "application/grpc").set("te", "trailers");

      List<List<Field>> answers = new ArrayList<>();
      Set<String> traceIds = new HashSet<>();
      for (int call = 0; call < CALLS; call++) {
        int stream = 2 * call + 1;
        ByteBuf block = Unpooled.buffer();
        encoder.encodeHeaders(stream, request, block);
        write(out, frame(0x1, 0x4, stream, block)); // HEADERS, END_HEADERS
        ByteBuf body = Unpooled.buffer().writeByte(0).writeInt(message.length).writeBytes(message);
        write(out, frame(0x0, 0x1, stream, body)); // DATA, END_STREAM
        boolean ended = false;
        boolean answered = false;
        while (!ended) {
          int length = (in.readUnsignedByte() << 16) | in.readUnsignedShort();
          int type = in.readUnsignedByte();
          int flags = in.readUnsignedByte();
          int id = in.readInt() & 0x7fffffff;
          byte[] payload = new byte[length];
          in.readFully(payload);
          switch (type) {
            case 0x1 -> { // HEADERS: the answer's, then its trailers; every block must be decoded, in order
              assertThat(id).isEqualTo(stream);
              assertThat(flags & 0x4).as("headers in one frame").isNotZero();
              List<Representation> representations = representations(Unpooled.wrappedBuffer(payload));
              ByteBuf encoded = Unpooled.wrappedBuffer(payload);
              Http2Headers decoded = decoder.decodeHeaders(id, encoded);
              encoded.release();
              List<Field> fields = new ArrayList<>();
              for (Map.Entry<CharSequence, CharSequence> h : decoded) {
                fields.add(new Field(h.getKey().toString(), representations.get(fields.size())));
              }
              assertThat(fields).hasSameSizeAs(representations);
              if ((flags & 0x1) != 0) {
                assertThat(decoded.get("grpc-status")).as("call %d's status", call).hasToString("0");
                ended = true;
              } else {
                answers.add(fields);
                traceIds.add(decoded.get("x-trace-id").toString());
                answered = true;
              }
            }
            case 0x4 -> {
              if ((flags & 0x1) == 0) {
                write(out, frame(0x4, 0x1, 0, Unpooled.EMPTY_BUFFER)); // SETTINGS ACK
              }
            }
            case 0x6 -> {
              if ((flags & 0x1) == 0) {
                write(out, frame(0x6, 0x1, 0, Unpooled.wrappedBuffer(payload))); // PING ACK
              }
            }
            case 0x3, 0x7 -> throw new AssertionError("call " + call + " ended by frame type " + type);
            default -> { } // DATA, WINDOW_UPDATE
          }
        }
        assertThat(answered).as("call %d answered with headers", call).isTrue();
      }

      assertThat(traceIds).as("a trace id of its own for every call").hasSize(CALLS);
      for (List<Field> answer : answers) {
        assertThat(answer).contains(new Field("x-trace-id", Representation.LITERAL_NEVER_INDEXED));
      }
      for (List<Field> answer : answers.subList(1, CALLS)) {
        assertThat(answer).as("what an answer's headers add to HPACK's table once the first has been sent")
            .noneMatch(f -> f.representation() == Representation.LITERAL_INDEXED);
      }
    }
  }

  /** The representation of each field of an HPACK block, in order (dynamic table size updates are not fields). */
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

  private static ByteBuf frame(int type, int flags, int stream, ByteBuf payload) {
    ByteBuf frame = Unpooled.buffer(9 + payload.readableBytes());
    frame.writeMedium(payload.readableBytes()).writeByte(type).writeByte(flags).writeInt(stream).writeBytes(payload);
    payload.release();
    return frame;
  }

  private static void write(OutputStream out, ByteBuf buf) throws java.io.IOException {
    byte[] bytes = new byte[buf.readableBytes()];
    buf.readBytes(bytes);
    buf.release();
    out.write(bytes);
    out.flush();
  }
}
