package io.junction.server.it;

import static io.junction.server.InferRequests.rawFp32;
import static org.assertj.core.api.Assertions.assertThat;

import io.junction.server.TestServer;
import io.junction.server.config.ServerConfig;
import io.junction.testkit.DemoRepository;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The gRPC port keeps at most --grpc-max-connections open: one more is closed as it is accepted. */
class GrpcConnectionCapTest {
  @TempDir Path dir;

  @Test
  void aConnectionPastTheCapIsClosedAndOneIsTakenAgainOnceAnotherGoes() throws Exception {
    ServerConfig config = ServerConfig.loopback(DemoRepository.write(dir.resolve("repo")));
    config = config.withLimits(config.limits().withMaxConnections(3));
    try (TestServer server = TestServer.start(config)) {
      int port = server.server().grpcPort();
      List<Socket> held = new ArrayList<>();
      try {
        for (int i = 0; i < 3; i++) {
          held.add(new Socket("127.0.0.1", port));
        }
        awaitMetric(server, "junction_grpc_connections", 3);

        try (Socket over = new Socket("127.0.0.1", port)) {
          assertThat(ServerCloses.closedByServer(over, Duration.ofSeconds(5))).as("the fourth connection").isTrue();
        }
        assertThat(server.metric("junction_grpc_connections_refused_total", 0)).isEqualTo(1.0);
        for (Socket s : held) {
          assertThat(ServerCloses.closedByServer(s, Duration.ofMillis(200))).as("the connections within the cap stay open").isFalse();
        }

        held.remove(0).close();
        awaitMetric(server, "junction_grpc_connections", 2);
        assertThat(server.blocking().modelInfer(rawFp32("mlp", "", "x", new float[8], 1, 8)).getOutputsCount())
            .as("a call on the connection that took the freed place").isEqualTo(1);
        assertThat(server.metric("junction_grpc_connections", 0)).isEqualTo(3.0);
      } finally {
        for (Socket s : held) {
          s.close();
        }
      }
    }
  }

  private static void awaitMetric(TestServer server, String series, double value) {
    Awaitility.await(series + " reaching " + value).atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20))
        .until(() -> server.metric(series, -1), v -> v == value);
  }
}
