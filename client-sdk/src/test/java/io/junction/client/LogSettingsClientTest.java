package io.junction.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.junction.server.JunctionServer;
import io.junction.server.config.ServerConfig;
import io.junction.testkit.DemoRepository;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** The client's calls of Triton's logging extension against a real server: an admin's, and anyone else's. */
class LogSettingsClientTest {
  private static final String TOKEN = "client-log-settings-token-0123456789";

  @TempDir Path dir;

  @Test
  void anAdminReadsAndChangesTheServersLog() throws Exception {
    try (JunctionServer server = new JunctionServer(ServerConfig.loopback(DemoRepository.write(dir.resolve("repo")))
            .withAdminToken(TOKEN)).start();
        JunctionClient admin = JunctionClient.builder("127.0.0.1:" + server.grpcPort()).plaintext()
            .metadata("authorization", "Bearer " + TOKEN).build();
        JunctionClient anyone = JunctionClient.builder("127.0.0.1:" + server.grpcPort()).plaintext().build()) {
      assertThat(admin.logSettings()).containsEntry("log_verbose_level", 0L).containsEntry("log_info", true)
          .containsEntry("log_format", "ISO8601").containsKeys("log_file", "log_warning", "log_error");

      Map<String, Object> after = admin.updateLogSettings(Map.of("log_verbose_level", 1, "log_warning", false));
      assertThat(after).containsEntry("log_verbose_level", 1L).containsEntry("log_warning", false);
      assertThat(LoggerFactory.getLogger("io.junction.client.probe").isDebugEnabled()).isTrue();

      assertThatThrownBy(() -> admin.updateLogSettings(Map.of("log_verbose_level", -1)))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'log_verbose_level'");
      assertThatThrownBy(() -> admin.updateLogSettings(Map.of("log_file", "/tmp/x.log")))
          .isInstanceOfSatisfying(JunctionException.class,
              e -> assertThat(e.code()).isEqualTo(Status.Code.INVALID_ARGUMENT));
      assertThatThrownBy(anyone::logSettings).isInstanceOfSatisfying(JunctionException.class,
          e -> assertThat(e.code()).isEqualTo(Status.Code.UNAUTHENTICATED));

      admin.updateLogSettings(Map.of("log_verbose_level", 0, "log_warning", true));
      assertThat(LoggerFactory.getLogger("io.junction.client.probe").isDebugEnabled()).isFalse();
    }
  }
}
