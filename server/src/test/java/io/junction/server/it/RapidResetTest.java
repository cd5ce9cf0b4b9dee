package io.junction.server.it;

import static io.junction.server.InferRequests.rawFp32;
import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ConnectivityState;
import io.grpc.Metadata;
import io.grpc.Status;
import io.junction.proto.inference.GRPCInferenceServiceGrpc;
import io.junction.proto.inference.ModelInferRequest;
import io.junction.proto.inference.ModelInferResponse;
import io.junction.server.TestServer;
import io.junction.testkit.DeepMlp;
import io.junction.testkit.ModelRepositoryWriter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.netty.handler.codec.http2.Http2Headers;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HTTP/2 floods over real sockets: a raw client sending HEADERS+RST_STREAM pairs (or frames that make the server
 * reset), or frames that carry no work, is cut off after a bounded number, while a gRPC client that cancels half its
 * calls keeps its connection.
 */
class RapidResetTest {
  private static final int ENHANCE_YOUR_CALM = 0xb;

  @TempDir Path repo;

  @Test
  void headersAndResetPairsGetAGoAwayAfterABoundedNumber() throws Exception {
    streamsEachEndedAtOnceGetAGoAway(1_000, (batch, stream) -> {
      frameHeader(batch, 4, 0x3, 0, stream); // RST_STREAM
      batch.writeInt(0x8); // CANCEL
    });
  }

  /**
   * "MadeYouReset" (CVE-2025-8671): the client never resets a stream, it sends a frame that makes the server reset
   * it (a zero window update, a stream error), which grpc-java answers with RST_STREAM and no other count.
   */
  @Test
  void streamsTheServerIsMadeToResetGetAGoAwayAfterABoundedNumber() throws Exception {
    // The server's own resets are seen as grpc-java writes them, while it reads the bytes that provoked them, so
    // up to a read's worth of streams (~900 here) more gets in than when the client's resets are read first.
    streamsEachEndedAtOnceGetAGoAway(2_500, (batch, stream) -> {
      frameHeader(batch, 4, 0x8, 0, stream); // WINDOW_UPDATE
      batch.writeInt(0); // of nothing: a stream error
    });
  }

  @Test
  void floodsOfFramesThatCarryNoWorkGetAGoAway() throws Exception {
    new ModelRepositoryWriter(repo).model("m", 1, DeepMlp.seeded(1, 8, 8, 4).onnx()).config("m", "max_batch_size: 8\n");
    try (TestServer server = TestServer.start(repo)) {
      Map<String, Consumer<ByteBuf>> floods = new LinkedHashMap<>();
      floods.put("SETTINGS", batch -> frameHeader(batch, 0, 0x4, 0, 0));
      floods.put("PRIORITY", batch -> {
        frameHeader(batch, 5, 0x2, 0, 3);
        batch.writeInt(0).writeByte(15);
      });
      floods.put("empty DATA", batch -> frameHeader(batch, 0, 0x0, 0, 1)); // on stream 1, opened first
      // Window the server never asked for (it has sent nothing), a byte at a time: 2^31 frames before it overflows.
      floods.put("WINDOW_UPDATE of the connection", batch -> {
        frameHeader(batch, 4, 0x8, 0, 0);
        batch.writeInt(1);
      });
      floods.put("WINDOW_UPDATE of an open stream", batch -> {
        frameHeader(batch, 4, 0x8, 0, 1);
        batch.writeInt(1);
      });
      // Stream 1's first reset ends it; the server ignores the rest, but reads each.
      floods.put("RST_STREAM of a finished stream", batch -> {
        frameHeader(batch, 4, 0x3, 0, 1);
        batch.writeInt(0x8);
      });
      for (Map.Entry<String, Consumer<ByteBuf>> flood : floods.entrySet()) {
        try (Socket socket = new Socket("127.0.0.1", server.server().grpcPort())) {
          socket.setSoTimeout(20_000);
          int[] goAway = new int[] {-1, -1};
          Thread reader = new Thread(() -> readUntilGoAway(socket, goAway), "raw-h2-reader");
          reader.start();
          ByteBuf start = Unpooled.buffer();
          start.writeBytes("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
          frameHeader(start, 0, 0x4, 0, 0);
          ByteBuf block = Unpooled.buffer();
          new DefaultHttp2HeadersEncoder().encodeHeaders(1, new DefaultHttp2Headers().method("POST").scheme("http")
              .authority("junction").path("/inference.GRPCInferenceService/ModelInfer")
              .set("content-type", "application/grpc").set("te", "trailers"), block);
          frameHeader(start, block.readableBytes(), 0x1, 0x4, 1); // HEADERS, END_HEADERS: stream 1 open
          start.writeBytes(block);
          block.release();
          OutputStream out = socket.getOutputStream();
          out.write(bytes(start));
          int written = 0;
          try {
            while (written < 5_000_000) { // 45 MB and more: far more than the sockets' buffers take
              ByteBuf batch = Unpooled.buffer();
              for (int k = 0; k < 1000; k++) {
                flood.getValue().accept(batch);
              }
              out.write(bytes(batch));
              written += 1000;
            }
          } catch (IOException e) {
            // the server closed the connection: expected once it has seen enough
          }
          reader.join(20_000);
          assertThat(goAway[1]).as("%s: GOAWAY error code after %d frames written", flood.getKey(), written)
              .isEqualTo(ENHANCE_YOUR_CALM);
          assertThat(written).as("%s: the server reads nothing more once it said GOAWAY, and closes", flood.getKey())
              .isLessThan(5_000_000);
        }
      }
      String metrics = new String(server.server().metricsScrape(), StandardCharsets.UTF_8);
      assertThat(metrics).contains("junction_grpc_idle_frame_disconnects_total 5.0",
          "junction_grpc_rapid_reset_disconnects_total 1.0");
      assertThat(server.blocking().modelInfer(rawFp32("m", "", "x", new float[8], 1, 8)).getOutputsCount()).isEqualTo(1);
    }
  }

  /**
   * Opens streams and ends each right after its HEADERS with what {@code end} writes, and expects a GOAWAY
   * (ENHANCE_YOUR_CALM) before {@code maxStreams} of the 10,000 are taken.
   */
  private void streamsEachEndedAtOnceGetAGoAway(int maxStreams, BiConsumer<ByteBuf, Integer> end) throws Exception {
    new ModelRepositoryWriter(repo).model("m", 1, DeepMlp.seeded(1, 8, 8, 4).onnx()).config("m", "max_batch_size: 8\n");
    try (TestServer server = TestServer.start(repo); Socket socket = new Socket("127.0.0.1", server.server().grpcPort())) {
      socket.setSoTimeout(20_000);
      OutputStream out = socket.getOutputStream();
      int[] goAway = new int[] {-1, -1}; // last stream id, error code
      Thread reader = new Thread(() -> readUntilGoAway(socket, goAway), "raw-h2-reader");
      reader.start();

      ByteBuf preface = Unpooled.buffer();
      preface.writeBytes("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      frameHeader(preface, 0, 0x4, 0, 0); // empty SETTINGS
      out.write(bytes(preface));
      DefaultHttp2HeadersEncoder hpack = new DefaultHttp2HeadersEncoder();
      Http2Headers headers = new DefaultHttp2Headers().method("POST").scheme("http").authority("junction")
          .path("/inference.GRPCInferenceService/ModelInfer").set("content-type", "application/grpc").set("te", "trailers");
      int written = 0;
      try {
        for (int i = 0; i < 10_000; i += 100) {
          ByteBuf batch = Unpooled.buffer();
          for (int k = 0; k < 100; k++) {
            int stream = 2 * (i + k) + 1;
            ByteBuf block = Unpooled.buffer();
            hpack.encodeHeaders(stream, headers, block);
            frameHeader(batch, block.readableBytes(), 0x1, 0x4, stream); // HEADERS, END_HEADERS
            batch.writeBytes(block);
            block.release();
            end.accept(batch, stream);
          }
          out.write(bytes(batch));
          written += 100;
        }
      } catch (IOException e) {
        // the server closed the connection: expected once it has seen enough
      }
      reader.join(20_000);
      assertThat(goAway[1]).as("GOAWAY error code after %d pairs written", written).isEqualTo(ENHANCE_YOUR_CALM);
      assertThat(goAway[0]).as("the last stream the server took: a bounded number of the 10,000")
          .isPositive().isLessThan(2 * maxStreams);
      String metrics = new String(server.server().metricsScrape(), StandardCharsets.UTF_8);
      assertThat(metrics).contains("junction_grpc_rapid_reset_disconnects_total 1.0");
      // The server is fine for everyone else.
      assertThat(server.blocking().modelInfer(rawFp32("m", "", "x", new float[8], 1, 8)).getOutputsCount()).isEqualTo(1);
    }
  }

  @Test
  void aClientCancellingHalfItsCallsKeepsItsConnection() throws Exception {
    // A model slow enough that cancelled calls are still being worked on when their reset arrives.
    new ModelRepositoryWriter(repo).model("slow", 1, DeepMlp.seeded(1, 256, 1024, 1024, 256).onnx())
        .config("slow", "max_batch_size: 32\ndynamic_batching { }\n");
    try (TestServer server = TestServer.start(repo)) {
      ModelInferRequest request = rawFp32("slow", "", "x", new float[256], 1, 256);
      AtomicInteger ok = new AtomicInteger();
      AtomicInteger failed = new AtomicInteger();
      AtomicInteger cancelled = new AtomicInteger();
      int calls = 3_000;
      Semaphore inFlight = new Semaphore(64);
      CountDownLatch done = new CountDownLatch(calls);
      for (int i = 0; i < calls; i++) {
        inFlight.acquire();
        ClientCall<ModelInferRequest, ModelInferResponse> call =
            server.channel().newCall(GRPCInferenceServiceGrpc.getModelInferMethod(), CallOptions.DEFAULT);
        boolean cancel = i % 2 == 0;
        call.start(new ClientCall.Listener<>() {
          @Override
          public void onClose(Status status, Metadata trailers) {
            if (status.isOk()) {
              ok.incrementAndGet();
            } else if (status.getCode() == Status.Code.CANCELLED) {
              cancelled.incrementAndGet();
            } else {
              failed.incrementAndGet();
            }
            inFlight.release();
            done.countDown();
          }
        }, new Metadata());
        call.request(1);
        call.sendMessage(request);
        call.halfClose();
        if (cancel) {
          call.cancel("the caller gave up", null);
        }
      }
      assertThat(done.await(120, TimeUnit.SECONDS)).isTrue();
      assertThat(failed.get()).as("calls failed (ok %d, cancelled %d)", ok.get(), cancelled.get()).isZero();
      assertThat(cancelled.get()).isGreaterThan(calls / 4);
      assertThat(ok.get()).isGreaterThanOrEqualTo(calls / 2);
      String metrics = new String(server.server().metricsScrape(), StandardCharsets.UTF_8);
      assertThat(metrics).contains("junction_grpc_rapid_reset_disconnects_total 0.0");
      assertThat(server.channel().getState(false)).isEqualTo(ConnectivityState.READY);
    }
  }

  private static void frameHeader(ByteBuf buf, int length, int type, int flags, int stream) {
    buf.writeMedium(length).writeByte(type).writeByte(flags).writeInt(stream);
  }

  private static byte[] bytes(ByteBuf buf) {
    byte[] b = new byte[buf.readableBytes()];
    buf.readBytes(b);
    buf.release();
    return b;
  }

  /** Reads the server's frames until a GOAWAY (recording its last stream id and error code) or the end. */
  private static void readUntilGoAway(Socket socket, int[] goAway) {
    try {
      DataInputStream in = new DataInputStream(socket.getInputStream());
      while (true) {
        int length = (in.readUnsignedByte() << 16) | (in.readUnsignedByte() << 8) | in.readUnsignedByte();
        int type = in.readUnsignedByte();
        in.readUnsignedByte();
        in.readInt();
        byte[] payload = new byte[length];
        in.readFully(payload);
        if (type == 0x7) {
          ByteBuffer p = ByteBuffer.wrap(payload);
          goAway[0] = p.getInt() & 0x7fffffff;
          goAway[1] = p.getInt();
          return;
        }
      }
    } catch (EOFException | SocketException e) {
      // closed
    } catch (IOException e) {
      // timed out
    }
  }
}
