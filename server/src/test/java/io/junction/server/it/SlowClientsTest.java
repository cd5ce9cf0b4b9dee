package io.junction.server.it;

import static io.junction.server.InferRequests.rawFp32;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.junction.proto.inference.ModelInferRequest;
import io.junction.server.TestServer;
import io.junction.server.config.GrpcLimits;
import io.junction.server.config.ServerConfig;
import io.junction.testkit.DemoRepository;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Slow clients over a raw HTTP/2 socket. A sender that stalls mid-request has its call ended after the read timeout.
 * A client that takes none of its answer (it answers pings but never returns window), or drips window out a few
 * bytes at a time, has the answer's stream reset after the answer stall timeout, where the server used to hold the
 * answer for as long as the connection lived.
 */
class SlowClientsTest {
  @TempDir Path dir;

  @Test
  void aRequestThatStopsHalfwayIsEndedAfterTheReadTimeout() throws Exception {
    try (TestServer server = start(limits -> limits.withRequestReadTimeout(Duration.ofMillis(500)));
        RawHttp2Connection client = new RawHttp2Connection(server.server().grpcPort())) {
      int stream = client.open("/inference.GRPCInferenceService/ModelInfer");
      // A gRPC message that claims 1,000,000 bytes, of which 1,000 come; then nothing.
      client.send(stream, RawHttp2Connection.prefix(1_000_000), false);
      client.send(stream, new byte[1000], false);

      long start = System.nanoTime();
      String status = client.end(stream).get(10, TimeUnit.SECONDS);
      double seconds = (System.nanoTime() - start) / 1e9;
      assertThat(status).as("how the server ended the stream").startsWith("grpc-status 4:")
          .contains("the request did not arrive within 500 ms");
      assertThat(seconds).as("ended by the read timeout, not the connection's age").isLessThan(8);
      assertThat(server.blocking().modelInfer(rawFp32("mlp", "", "x", new float[8], 1, 8)).getOutputsCount())
          .as("whole requests are served as before").isEqualTo(1);
    }
  }

  @Test
  void anAnswerTheClientTakesNoneOfIsResetAfterTheStallTimeout() throws Exception {
    try (TestServer server = start(limits -> limits.withAnswerStallTimeout(Duration.ofSeconds(1)));
        RawHttp2Connection client = new RawHttp2Connection(server.server().grpcPort())) {
      // An echo of 200 KB, more than the 64 KiB windows this client opens and never tops up.
      byte[] request = echo(200_000).toByteArray();
      int stream = client.open("/inference.GRPCInferenceService/ModelInfer");
      client.send(stream, RawHttp2Connection.prefix(request.length), false);
      client.send(stream, request, true);

      long start = System.nanoTime();
      String end = client.end(stream).get(15, TimeUnit.SECONDS);
      double seconds = (System.nanoTime() - start) / 1e9;
      assertThat(client.headerBlocks(stream)).as("the answer had begun").hasSize(1);
      assertThat(end).as("how the server ended the stream").isEqualTo("reset 8"); // CANCEL
      assertThat(seconds).as("after the stall timeout, not the connection's age").isBetween(0.9, 8.0);
      assertThat(client.closedByServer()).as("the connection carries on").isFalse();
      assertThat(server.metric("junction_grpc_incomplete_streams_cut_total{reason=\"answer_untaken\"}", 0))
          .isEqualTo(1.0);

      // A client that takes its answer slowly, 16 KiB every 300 ms (its 200 KB over some 3 s), keeps it.
      try (RawHttp2Connection slow = new RawHttp2Connection(server.server().grpcPort())) {
        int steady = slow.open("/inference.GRPCInferenceService/ModelInfer");
        slow.send(steady, RawHttp2Connection.prefix(request.length), false);
        slow.send(steady, request, true);
        while (!slow.end(steady).isDone()) {
          Thread.sleep(300);
          slow.grant(steady, 16 * 1024);
        }
        assertThat(slow.end(steady).get()).as("a slow reader's answer").isEqualTo("grpc-status 0");
      }

      // A client that drips window out, 512 bytes every 100 ms (5 KB a second, under the 16 KiB a stall timeout
      // asks), keeps taking its answer but not fast enough to keep it: it would hold 200 KB for 40 s.
      try (RawHttp2Connection drip = new RawHttp2Connection(server.server().grpcPort())) {
        int dripping = drip.open("/inference.GRPCInferenceService/ModelInfer");
        drip.send(dripping, RawHttp2Connection.prefix(request.length), false);
        drip.send(dripping, request, true);
        long dripStart = System.nanoTime();
        while (!drip.end(dripping).isDone() && System.nanoTime() - dripStart < TimeUnit.SECONDS.toNanos(15)) {
          Thread.sleep(100);
          drip.grant(dripping, 512);
        }
        assertThat(drip.end(dripping).getNow("still open after 15 s")).as("a dripping reader's answer")
            .isEqualTo("reset 8");
        assertThat(server.metric("junction_grpc_incomplete_streams_cut_total{reason=\"answer_untaken\"}", 0))
            .isEqualTo(2.0);
      }

      // A client that reads takes an answer of megabytes under the same timeout.
      assertThat(server.blocking().modelInfer(echo(4_000_000)).getRawOutputContents(0).size())
          .isEqualTo(4 + 4_000_000);
    }
  }

  /** A text_echo request of one BYTES element of {@code length} bytes, as raw contents. */
  @Test
  void aClientThatReturnsTheWindowOfEveryFrameItReadsKeepsItsConnection() throws Exception {
    // It reads through a 64-byte stream window, so its 128 KiB answer comes in ~2,000 DATA frames and it sends
    // ~4,000 window updates, one for the stream and one for the connection a frame, in a second or two: four times
    // what the server lets a client send unasked in its 10 s window. Each answers bytes the server sent.
    try (TestServer server = start(UnaryOperator.identity());
        RawHttp2Connection client = new RawHttp2Connection(server.server().grpcPort(), 64)) {
      byte[] request = echo(128 * 1024).toByteArray();
      long start = System.nanoTime();
      int stream = client.open("/inference.GRPCInferenceService/ModelInfer");
      client.send(stream, RawHttp2Connection.prefix(request.length), false);
      client.send(stream, request, true);
      assertThat(client.end(stream).get(30, TimeUnit.SECONDS)).isEqualTo("grpc-status 0");
      assertThat((System.nanoTime() - start) / 1e9).as("seconds: within the window the updates are counted over, "
          + "or this tells nothing").isLessThan(10.0);
      assertThat(client.closedByServer()).isFalse();
      assertThat(server.metric("junction_grpc_idle_frame_disconnects_total", -1)).isEqualTo(0.0);
    }
  }

  private static ModelInferRequest echo(int length) {
    byte[] text = new byte[length];
    Arrays.fill(text, (byte) 'x');
    ByteBuffer raw = ByteBuffer.allocate(4 + length).order(ByteOrder.LITTLE_ENDIAN).putInt(length).put(text);
    return ModelInferRequest.newBuilder().setModelName("text_echo")
        .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("TEXT").setDatatype("BYTES").addShape(1))
        .addRawInputContents(ByteString.copyFrom(raw.array())).build();
  }

  private TestServer start(UnaryOperator<GrpcLimits> limits) throws Exception {
    ServerConfig config = ServerConfig.loopback(DemoRepository.write(dir.resolve("repo")));
    return TestServer.start(config.withLimits(limits.apply(config.limits())));
  }
}
