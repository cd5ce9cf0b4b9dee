package io.junction.server.it;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.junction.server.JunctionServer;
import io.junction.server.config.ServerConfig;
import io.junction.testkit.DemoRepository;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A server that cannot take its port says which port and why, for either transport. */
class PortInUseTest {
  @TempDir Path dir;

  @Test
  void aTakenGrpcPortIsNamedWithTheSocketsReason() throws Exception {
    Path repo = DemoRepository.write(dir.resolve("repo"));
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      ServerConfig config = ServerConfig.loopback(repo).withGrpcEndpoint("127.0.0.1", taken.getLocalPort());
      assertThatThrownBy(() -> new JunctionServer(config).start())
          .isInstanceOf(IOException.class)
          .hasMessageContaining("cannot listen for gRPC on /127.0.0.1:" + taken.getLocalPort())
          .hasMessageContaining("Address already in use");
    }
  }
}
