package io.junction.server.it;

import static io.junction.server.InferRequests.rawFp32;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.gson.JsonParser;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.junction.proto.inference.GRPCInferenceServiceGrpc;
import io.junction.proto.inference.ModelInferRequest;
import io.junction.proto.inference.ModelInferResponse;
import io.junction.proto.inference.ServerReadyRequest;
import io.junction.server.InferRequests;
import io.junction.testkit.DeepMlp;
import io.junction.testkit.ModelRepositoryWriter;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGTERM as Kubernetes sends it, to a real server process: readiness turns 503 at once, calls are still
 * served during the drain delay, every accepted call is answered, and the process exits 0.
 */
class ShutdownTest {
  @TempDir Path repo;
  /** The server's log, outside the repository it serves. */
  @TempDir Path logs;

  @Test
  void sigtermDrainsAnswersEveryAcceptedCallAndExitsZero() throws Exception {
    new ModelRepositoryWriter(repo).model("slow", 1, DeepMlp.slow().onnx())
        .config("slow", "max_batch_size: 64\n");
    int grpcPort = freePort();
    int httpPort = freePort();
    Process server = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), "io.junction.server.Main",
        "--model-repository", repo.toString(), "--grpc-address", "127.0.0.1", "--grpc-port", Integer.toString(grpcPort),
        "--http-address", "127.0.0.1", "--http-port", Integer.toString(httpPort), "--cpu-slots", "1",
        "--drain-delay", "3s", "--exit-timeout", "30s", "--tracing", "false", "--log-format", "json")
        .redirectErrorStream(true).redirectOutput(logs.resolve("server.log").toFile()).start();
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", grpcPort).usePlaintext().build();
    HttpClient http = HttpClient.newHttpClient();
    try {
      var stub = GRPCInferenceServiceGrpc.newFutureStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
      await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> GRPCInferenceServiceGrpc
          .newBlockingStub(channel).serverReady(ServerReadyRequest.getDefaultInstance()).getReady());
      assertThat(status(http, httpPort)).isEqualTo(200);

      // A queue of big calls in flight on the model's one instance when the signal comes.
      ModelInferRequest big = rawFp32("slow", "", "x", InferRequests.ramp(64 * 512, 0.01f), 64, 512);
      List<CompletableFuture<ModelInferResponse>> inFlight = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        var f = stub.modelInfer(big);
        CompletableFuture<ModelInferResponse> c = new CompletableFuture<>();
        f.addListener(() -> {
          try {
            c.complete(f.get());
          } catch (Exception e) {
            c.completeExceptionally(e);
          }
        }, Runnable::run);
        inFlight.add(c);
      }
      server.destroy(); // SIGTERM
      await().atMost(Duration.ofMillis(2000)).until(() -> status(http, httpPort) == 503);
      // Still serving during the drain delay: load balancers may not have noticed yet.
      assertThat(GRPCInferenceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
          .modelInfer(rawFp32("slow", "", "x", new float[512], 1, 512)).getOutputsCount()).isEqualTo(1);
      for (CompletableFuture<ModelInferResponse> c : inFlight) {
        assertThat(c.get(60, TimeUnit.SECONDS).getOutputsCount()).isEqualTo(1); // every accepted call answered
      }
      assertThat(server.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(server.exitValue()).isZero();
      // --log-format json: every line one JSON object, for log pipelines.
      List<String> lines = Files.readAllLines(logs.resolve("server.log"));
      assertThat(lines).isNotEmpty().allSatisfy(line -> {
        var event = JsonParser.parseString(line).getAsJsonObject();
        assertThat(event.has("level") && event.has("loggerName") && event.has("formattedMessage")).as(line).isTrue();
      });
      assertThat(lines).anySatisfy(line -> assertThat(line).contains("Junction exited cleanly"));
    } finally {
      channel.shutdownNow();
      server.destroyForcibly();
    }
  }

  private static int status(HttpClient http, int port) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health/ready"))
        .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
