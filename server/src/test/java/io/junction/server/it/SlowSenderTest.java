package io.junction.server.it;

import static io.junction.server.InferRequests.rawFp32;
import static org.assertj.core.api.Assertions.assertThat;

import io.junction.server.TestServer;
import io.junction.server.config.ServerConfig;
import io.junction.testkit.DemoRepository;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A sender that stalls mid-request, over a raw HTTP/2 socket: its call is ended after the read timeout. */
class SlowSenderTest {
  @TempDir Path dir;

  @Test
  void aRequestThatStopsHalfwayIsEndedAfterTheReadTimeout() throws Exception {
    ServerConfig config = ServerConfig.loopback(DemoRepository.write(dir.resolve("repo")));
    config = config.withLimits(config.limits().withRequestReadTimeout(Duration.ofMillis(500)));
    try (TestServer server = TestServer.start(config);
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
}
