package io.junction.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.junction.server.device.DeviceId;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ConfigTest {
  @Test
  void defaultsAreExplicitLimits() {
    GrpcLimits d = GrpcLimits.DEFAULTS;
    assertThat(d.maxInboundMessageBytes()).isEqualTo(64 * 1024 * 1024);
    assertThat(d.maxInboundMetadataBytes()).isEqualTo(16 * 1024);
    assertThat(d.maxConcurrentCallsPerConnection()).isEqualTo(1024);
    assertThat(d.maxConnectionAge()).isEqualTo(Duration.ofMinutes(30));
    assertThat(d.maxConnectionAgeGrace()).isEqualTo(Duration.ofMinutes(5));
    assertThat(d.permitKeepAliveTime()).isEqualTo(Duration.ofSeconds(10));
    assertThat(d.prematureResetMinimum()).isEqualTo(500);
    assertThat(d.prematureResetRatio()).isEqualTo(0.8);
    ServerConfig s = ServerConfig.defaults(Path.of("models"));
    assertThat(s.grpcPort()).isEqualTo(8001);
    assertThat(s.httpPort()).isEqualTo(8002);
    assertThat(s.strictReadiness()).isTrue();
    assertThat(s.defaultMaxBatchSize()).isEqualTo(4);
  }

  @Test
  void invalidValuesAreRejectedWithTheirName() {
    assertThatThrownBy(() -> GrpcLimits.DEFAULTS.withMaxInboundMessageBytes(0))
        .hasMessage("maxInboundMessageBytes must be positive, got 0");
    ServerConfig s = ServerConfig.defaults(Path.of("models"));
    assertThatThrownBy(() -> s.withScheduling(0, 10)).hasMessage("CPU execution slots (--cpu-slots) must be at least 1, got 0");
    assertThatThrownBy(() -> new ServerConfig(Path.of("m"), "0.0.0.0", 70000, "0.0.0.0", 1, 1, 1, 1, 0, true,
        GrpcLimits.DEFAULTS, Optional.empty(), ModelControl.NONE,
        Optional.empty(), AdminAccess.NONE, Optional.empty(), HttpLimits.DEFAULTS, PayloadLogConfig.OFF, Optional.empty(), DeviceConfig.DISCOVER, FeedbackConfig.DEFAULTS, StatusPageConfig.DEFAULTS, MetricsConfig.DEFAULTS, 0)).hasMessage("the gRPC port (--grpc-port) must be 0..65535, got 70000");
  }

  @Test
  void memoryBudgetsAreParsedPerDevice() {
    assertThat(ModelControl.parseBudgets("cpu=4g,gpu:0=70g, gpu:1=512m")).containsExactly(
        Map.entry(DeviceId.CPU, 4L << 30),
        Map.entry(DeviceId.gpu(0), 70L << 30),
        Map.entry(DeviceId.gpu(1), 512L << 20));
    assertThatThrownBy(() -> ModelControl.parseBudgets("gpu=4g"))
        .hasMessage("--model-memory-budget must look like cpu=4g,gpu:0=70g, got 'gpu=4g'");
    assertThatThrownBy(() -> ModelControl.parseBudgets("cpu=4g,cpu=2g"))
        .hasMessage("--model-memory-budget names cpu twice: 'cpu=4g,cpu=2g'");
    assertThatThrownBy(() -> ModelControl.parseBudgets("gpu:0=-3"))
        .hasMessageContaining("must be a positive number of bytes");
  }
}
