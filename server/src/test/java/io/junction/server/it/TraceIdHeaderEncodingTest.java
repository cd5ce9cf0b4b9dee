package io.junction.server.it;

import static io.junction.server.InferRequests.rawFp32;
import static io.junction.testkit.HpackFields.Representation.LITERAL_INDEXED;
import static io.junction.testkit.HpackFields.Representation.LITERAL_NEVER_INDEXED;
import static org.assertj.core.api.Assertions.assertThat;

import io.junction.server.JunctionServer;
import io.junction.server.TestServer;
import io.junction.server.config.ServerConfig;
import io.junction.server.telemetry.Telemetry;
import io.junction.testkit.DeepMlp;
import io.junction.testkit.HpackFields;
import io.junction.testkit.HpackFields.Field;
import io.junction.testkit.ModelRepositoryWriter;
import io.junction.testkit.OtlpReceiver;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
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
      HpackFields answerHeaders = new HpackFields();
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
              List<Field> fields = answerHeaders.read(id, payload);
              if ((flags & 0x1) != 0) {
                assertThat(fields).as("call %d's status", call)
                    .anyMatch(f -> f.name().equals("grpc-status") && f.value().equals("0"));
                ended = true;
              } else {
                answers.add(fields);
                fields.stream().filter(f -> f.name().equals("x-trace-id")).forEach(f -> traceIds.add(f.value()));
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
        assertThat(answer).filteredOn(f -> f.name().equals("x-trace-id")).singleElement()
            .extracting(Field::representation).isEqualTo(LITERAL_NEVER_INDEXED);
      }
      for (List<Field> answer : answers.subList(1, CALLS)) {
        assertThat(answer).as("what an answer's headers add to HPACK's table once the first has been sent")
            .noneMatch(f -> f.representation() == LITERAL_INDEXED);
      }
    }
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
