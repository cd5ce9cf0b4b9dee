package io.junction.server.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.junction.server.TestServer;
import io.junction.server.config.InboundMemory;
import io.junction.server.config.ServerConfig;
import io.junction.testkit.DemoRepository;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Requests still arriving hold memory: senders that send most of many large messages and stop, on one
 * connection or many, and messages that stall on a stream. Over raw HTTP/2, since gRPC clients always
 * finish their messages.
 */
class IncompleteMessagesTest {
  private static final String INFER = "/inference.GRPCInferenceService/ModelInfer";
  private static final String STREAM_INFER = "/inference.GRPCInferenceService/ModelStreamInfer";
  private static final int MIB = 1024 * 1024;

  @TempDir Path dir;

  private TestServer start(Duration readTimeout) throws Exception {
    ServerConfig config = ServerConfig.loopback(DemoRepository.write(dir.resolve("repo")));
    config = config.withLimits(config.limits().withMaxInboundMessageBytes(6 * MIB)
        .withInboundMemory(new InboundMemory(8 * MIB, 12 * MIB, MIB)).withRequestReadTimeout(readTimeout));
    return TestServer.start(config);
  }

  /** Sends the start of a message claiming {@code claimed} bytes: its prefix and {@code sent} bytes of it. */
  private static void sendPart(RawHttp2Connection c, int stream, int claimed, int sent) throws Exception {
    c.send(stream, RawHttp2Connection.prefix(claimed), false);
    c.send(stream, new byte[sent], false);
  }

  @Test
  void theStreamThatTakesItsConnectionOverTheLimitIsEndedAndTheOthersGoOn() throws Exception {
    try (TestServer server = start(Duration.ofSeconds(30));
        RawHttp2Connection c = new RawHttp2Connection(server.server().grpcPort())) {
      int first = c.open(INFER);
      int second = c.open(INFER);
      int third = c.open(INFER);
      sendPart(c, first, 5 * MIB, 3 * MIB);
      sendPart(c, second, 5 * MIB, 2 * MIB);
      await().atMost(Duration.ofSeconds(10)).until(() -> server.metric("junction_grpc_incomplete_message_bytes", -1) >= 5 * MIB);
      sendPart(c, third, 5 * MIB, 4 * MIB);

      assertThat(c.end(third).get(10, TimeUnit.SECONDS))
          .startsWith("grpc-status 8: this connection's requests not yet received whole hold")
          .contains("over its limit of 8388608 (--grpc-max-incomplete-bytes-per-connection)");
      assertThat(c.end(first)).as("the streams within the limit stay open").isNotDone();
      assertThat(c.end(second)).isNotDone();

      // The first stream's message comes whole: it is parsed (and refused, being zeros), so the connection
      // and the stream went on after the cut.
      c.send(first, new byte[2 * MIB], true);
      assertThat(c.end(first).get(10, TimeUnit.SECONDS)).startsWith("grpc-status 3: the ModelInfer request is not a valid message");
      assertThat(c.closedByServer()).isFalse();
      assertThat(server.metric("junction_grpc_incomplete_streams_cut_total{reason=\"connection_limit\"}", -1)).isEqualTo(1);
    }
  }

  @Test
  void connectionsTogetherAreBoundedByTheServersLimitAndWhatTheyHeldIsFreedWithThem() throws Exception {
    try (TestServer server = start(Duration.ofSeconds(30))) {
      try (RawHttp2Connection a = new RawHttp2Connection(server.server().grpcPort());
          RawHttp2Connection b = new RawHttp2Connection(server.server().grpcPort())) {
        sendPart(a, a.open(INFER), 5 * MIB, 4 * MIB);
        sendPart(a, a.open(INFER), 5 * MIB, 3 * MIB + MIB / 2);
        int firstOfB = b.open(INFER);
        sendPart(b, firstOfB, 5 * MIB, 4 * MIB);
        await().atMost(Duration.ofSeconds(10))
            .until(() -> server.metric("junction_grpc_incomplete_message_bytes", -1) >= 11.5 * MIB);
        int secondOfB = b.open(INFER);
        sendPart(b, secondOfB, 5 * MIB, MIB);

        assertThat(b.end(secondOfB).get(10, TimeUnit.SECONDS))
            .startsWith("grpc-status 8: requests not yet received whole hold")
            .contains("over its limit of 12582912 (--grpc-max-incomplete-bytes)");
        assertThat(b.end(firstOfB)).isNotDone();
        assertThat(server.metric("junction_grpc_incomplete_streams_cut_total{reason=\"server_limit\"}", -1)).isEqualTo(1);
      }
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
          assertThat(server.metric("junction_grpc_incomplete_message_bytes", -1)).as("freed with the connections").isZero());
    }
  }

  @Test
  void aMessageThatStallsOnAStreamIsEndedAndTheConnectionCarriesOn() throws Exception {
    try (TestServer server = start(Duration.ofMillis(500));
        RawHttp2Connection c = new RawHttp2Connection(server.server().grpcPort())) {
      int stream = c.open(STREAM_INFER);
      sendPart(c, stream, 1000, 500);

      assertThat(c.end(stream).get(10, TimeUnit.SECONDS))
          .startsWith("grpc-status 4: the message did not arrive whole within 500 ms of its first byte")
          .contains("cut after 505 of its 1005 bytes");
      await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
          assertThat(server.metric("junction_grpc_incomplete_message_bytes", -1)).isZero());

      int next = c.open(INFER);
      c.send(next, RawHttp2Connection.prefix(10), false);
      c.send(next, new byte[10], true);
      assertThat(c.end(next).get(10, TimeUnit.SECONDS)).as("the same connection still serves")
          .startsWith("grpc-status 3:");
      assertThat(server.metric("junction_grpc_incomplete_streams_cut_total{reason=\"stalled\"}", -1)).isEqualTo(1);
    }
  }

}
