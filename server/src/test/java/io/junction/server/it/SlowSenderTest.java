package io.junction.server.it;

import static io.junction.server.InferRequests.rawFp32;
import static org.assertj.core.api.Assertions.assertThat;

import io.junction.server.TestServer;
import io.junction.server.config.ServerConfig;
import io.junction.testkit.DemoRepository;
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
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A sender that stalls mid-request, over a raw HTTP/2 socket: its call is ended after the read timeout. */
class SlowSenderTest {
  @TempDir Path dir;

  @Test
  void aRequestThatStopsHalfwayIsEndedAfterTheReadTimeout() throws Exception {
    ServerConfig config = ServerConfig.loopback(DemoRepository.write(dir.resolve("repo")));
    config = config.withLimits(config.limits().withRequestReadTimeout(Duration.ofMillis(500)));
    try (TestServer server = TestServer.start(config); Socket socket = new Socket("127.0.0.1", server.server().grpcPort())) {
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      ByteBuf frames = Unpooled.buffer();
      frames.writeBytes("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      frame(frames, 0, 0x4, 0, 0); // SETTINGS
      ByteBuf block = Unpooled.buffer();
      Http2Headers headers = new DefaultHttp2Headers().method("POST").scheme("http").authority("junction")
          .path("/inference.GRPCInferenceService/ModelInfer").set("content-type", "application/grpc").set("te", "trailers");
      new DefaultHttp2HeadersEncoder().encodeHeaders(1, headers, block);
      frame(frames, block.readableBytes(), 0x1, 0x4, 1); // HEADERS, END_HEADERS
      frames.writeBytes(block);
      // A gRPC message that claims 1,000,000 bytes, of which 1,000 come; then nothing.
      frame(frames, 5 + 1000, 0x0, 0, 1);
      frames.writeByte(0).writeInt(1_000_000).writeZero(1000);
      byte[] bytes = new byte[frames.readableBytes()];
      frames.readBytes(bytes);
      out.write(bytes);
      out.flush();

      long start = System.nanoTime();
      String status = endOfStream(new DataInputStream(socket.getInputStream()));
      double seconds = (System.nanoTime() - start) / 1e9;
      assertThat(status).as("how the server ended stream 1").isEqualTo("grpc-status 4");
      assertThat(seconds).as("ended by the read timeout, not the connection's age").isLessThan(8);
      assertThat(server.blocking().modelInfer(rawFp32("mlp", "", "x", new float[8], 1, 8)).getOutputsCount())
          .as("whole requests are served as before").isEqualTo(1);
    }
  }

  private static void frame(ByteBuf buf, int length, int type, int flags, int stream) {
    buf.writeMedium(length).writeByte(type).writeByte(flags).writeInt(stream);
  }

  /** Reads server frames until stream 1 ends: its grpc-status, or "reset". */
  private static String endOfStream(DataInputStream in) throws Exception {
    DefaultHttp2HeadersDecoder decoder = new DefaultHttp2HeadersDecoder(false);
    while (true) {
      int length = (in.readUnsignedByte() << 16) | (in.readUnsignedByte() << 8) | in.readUnsignedByte();
      int type = in.readUnsignedByte();
      int flags = in.readUnsignedByte();
      int stream = in.readInt() & 0x7fffffff;
      byte[] payload = new byte[length];
      in.readFully(payload);
      if (stream != 1) {
        continue;
      }
      if (type == 0x3) {
        return "reset";
      }
      if (type == 0x1) {
        Http2Headers h = decoder.decodeHeaders(1, Unpooled.wrappedBuffer(payload));
        if ((flags & 0x1) != 0) {
          CharSequence code = h.get("grpc-status");
          return "grpc-status " + code;
        }
      }
    }
  }
}
