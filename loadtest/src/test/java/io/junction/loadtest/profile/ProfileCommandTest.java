package io.junction.loadtest.profile;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.junction.loadtest.LoadTest;
import io.junction.proto.inference.GRPCInferenceServiceGrpc;
import io.junction.proto.inference.ModelConfig;
import io.junction.proto.inference.ModelConfigRequest;
import io.junction.server.JunctionServer;
import io.junction.server.config.ModelControl;
import io.junction.server.config.ServerConfig;
import io.junction.testkit.DemoRepository;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code junction-loadtest profile} against a real server: the sweep, the server's side of each point, the knee. */
class ProfileCommandTest {
  private static final String TOKEN = "profile-admin-token-0123456789";

  @TempDir Path dir;

  private record Run(int exit, String out, String err) {}

  private static Run profile(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = LoadTest.commandLine();
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    int exit = cli.execute(args);
    return new Run(exit, out.toString(), err.toString());
  }

  private static ModelConfig config(JunctionServer server) {
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext().build();
    try {
      return GRPCInferenceServiceGrpc.newBlockingStub(channel)
          .modelConfig(ModelConfigRequest.newBuilder().setName("mlp").build()).getConfig();
    } finally {
      channel.shutdownNow();
    }
  }

  @Test
  void sweepsInstancesDelaysBatchesAndConcurrencyAndEachPointAgreesWithTheServer() throws Exception {
    ServerConfig config = ServerConfig.loopback(DemoRepository.write(dir.resolve("repo")))
        .withControl(ModelControl.explicit(Set.of("*"))).withAdminToken(TOKEN);
    try (JunctionServer server = new JunctionServer(config).start()) {
      ModelConfig before = config(server);
      Path json = dir.resolve("profile.json");
      Path html = dir.resolve("profile.html");

      Run run = profile("profile", "--insecure", "--model", "mlp", "--instances", "1,2", "--max-queue-delays", "0,200",
          "--batch-sizes", "1,2", "--concurrency", "1,4", "--duration", "300ms", "--warmup", "100ms", "--setup-warmup",
          "200ms", "--warmup-first", "500ms", "--latency-budget", "10s", "--admin-token", TOKEN, "--metrics",
          "http://127.0.0.1:" + server.httpPort().orElseThrow() + "/metrics", "-o", json.toString(), "--html",
          html.toString(), "127.0.0.1:" + server.grpcPort());

      assertThat(run.exit()).as(run.out() + run.err()).isZero();
      JsonObject report = JsonParser.parseString(Files.readString(json)).getAsJsonObject();
      List<JsonElement> points = report.getAsJsonArray("points").asList();
      assertThat(points).hasSize(16);
      Set<String> setups = new HashSet<>();
      for (JsonElement e : points) {
        JsonObject p = e.getAsJsonObject();
        int batch = p.get("batchSize").getAsInt();
        setups.add(p.get("instances").getAsInt() + "/" + p.get("maxQueueDelayMicros").getAsLong());
        assertThat(p.get("failures").getAsLong()).isZero();
        assertThat(p.get("answered").getAsLong()).isPositive();
        assertThat(p.get("serverRequests").getAsLong()).as("the server counted the calls the client saw answered: %s", p)
            .isEqualTo(p.get("answered").getAsLong());
        assertThat(p.get("inferencesPerSecond").getAsDouble())
            .isCloseTo(p.get("requestsPerSecond").getAsDouble() * batch, Offset.offset(1e-6));
        assertThat(p.get("p50Ms").getAsDouble()).isPositive().isLessThanOrEqualTo(p.get("p99Ms").getAsDouble());
        assertThat(p.get("computeMs").getAsDouble()).isPositive();
        assertThat(p.get("queueMs").getAsDouble()).isNotNegative();
        assertThat(p.get("meanExecutedBatch").getAsDouble()).isGreaterThanOrEqualTo(batch);
        assertThat(p.get("modelFootprintBytes").getAsLong()).as("read from /metrics").isNotNegative();
        assertThat(p.get("serverMemoryBytes").getAsLong()).as("-1 where the process metrics are absent").isNotZero();
      }
      assertThat(setups).containsExactlyInAnyOrder("1/0", "1/200", "2/0", "2/200");
      assertThat(run.out()).contains("loaded mlp with 2 instance(s), max_queue_delay_microseconds 200",
          "reloaded mlp from its config.pbtxt", "Knee: ");
      assertThat(report.get("knee").getAsJsonObject().get("inferencesPerSecond").getAsDouble())
          .isEqualTo(points.stream().mapToDouble(p -> p.getAsJsonObject().get("inferencesPerSecond").getAsDouble()).max()
              .orElseThrow());
      assertThat(report.get("config").getAsString()).contains("max_batch_size: ", "max_queue_delay_microseconds: ",
          "instance_group [ { count: ");
      assertThat(Files.readString(html)).contains("<svg", "inferences per second", "Suggested config", "knee");
      ModelConfig after = config(server);
      assertThat(after.getInstanceGroupList()).as("reloaded from config.pbtxt").isEqualTo(before.getInstanceGroupList());
      assertThat(after.hasDynamicBatching()).isEqualTo(before.hasDynamicBatching());
    }
  }

  @Test
  void sweepingTheConfigOfAServerThatRefusesLoadsIsAOneLineError() throws Exception {
    try (JunctionServer server = new JunctionServer(ServerConfig.loopback(DemoRepository.write(dir.resolve("repo"))))
        .start()) {
      Run run = profile("profile", "--insecure", "--model", "mlp", "--instances", "2", "--concurrency", "1", "--duration", "100ms",
          "--warmup", "0", "--setup-warmup", "0", "--warmup-first", "0", "127.0.0.1:" + server.grpcPort());

      assertThat(run.exit()).isEqualTo(1);
      assertThat(run.err().strip()).startsWith("junction-loadtest profile: the server answered").contains("explicit")
          .doesNotContain("\tat ");
    }
  }

  @Test
  void aModelWithoutDynamicBatchingIsProfiledAsConfiguredAndTheAnalysisSaysWhatWasNotMeasured() throws Exception {
    try (JunctionServer server = new JunctionServer(ServerConfig.loopback(DemoRepository.write(dir.resolve("repo"))))
        .start()) {
      Run run = profile("profile", "--insecure", "--model", "mlp", "--concurrency", "1,2", "--duration", "200ms", "--warmup", "50ms",
          "--setup-warmup", "100ms", "--warmup-first", "0", "--latency-budget", "10s", "--metrics", "http://127.0.0.1:1/metrics",
          "127.0.0.1:" + server.grpcPort());

      assertThat(run.exit()).as(run.out() + run.err()).isZero();
      assertThat(run.out()).contains("configured instances", "dynamic_batching: (not measured)",
          "instance_group.count: (not measured)", "note: memory unknown");
    }
  }
}
