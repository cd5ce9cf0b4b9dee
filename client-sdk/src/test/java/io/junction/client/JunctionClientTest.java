package io.junction.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.grpc.Status;
import io.junction.server.JunctionServer;
import io.junction.server.config.ServerConfig;
import io.junction.testkit.DemoRepository;
import io.junction.testkit.FixtureModels;
import io.junction.testkit.ModelRepositoryWriter;
import io.junction.testkit.OnnxType;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The client against a real Junction server on loopback. */
class JunctionClientTest {
  @TempDir static Path repo;
  static JunctionServer server;
  static JunctionClient client;

  @BeforeAll
  static void start() throws Exception {
    DemoRepository.write(repo);
    ModelRepositoryWriter writer = new ModelRepositoryWriter(repo);
    for (OnnxType t : new OnnxType[] {OnnxType.INT32, OnnxType.INT64, OnnxType.DOUBLE, OnnxType.BOOL, OnnxType.UINT8}) {
      writer.model("identity_" + t.name().toLowerCase(), 1, FixtureModels.identity(t));
    }
    server = new JunctionServer(ServerConfig.loopback(repo)).start();
    client = JunctionClient.builder("127.0.0.1:" + server.grpcPort()).plaintext()
        .defaultDeadline(Duration.ofSeconds(20)).metadata("x-api-key", "test").build();
  }

  @AfterAll
  static void stop() {
    client.close();
    server.close();
  }

  @Test
  void readinessAndMetadata() {
    assertThat(client.isServerLive()).isTrue();
    assertThat(client.isServerReady()).isTrue();
    assertThat(client.isModelReady("mlp")).isTrue();
    assertThat(client.isModelReady("mlp", "7")).isFalse();
    assertThat(client.serverMetadata().getName()).isEqualTo("junction");
    ModelInfo mlp = client.modelMetadata("mlp");
    assertThat(mlp.versions()).containsExactly("1", "2");
    assertThat(mlp.inputs()).containsExactly(new ModelInfo.TensorInfo("x", "FP32", List.of(-1L, 8L)));
    assertThat(mlp.outputs()).containsExactly(new ModelInfo.TensorInfo("y", "FP32", List.of(-1L, 4L)));
  }

  @Test
  void blockingInferGivesTheModelsAnswer() {
    float[] x = {1, -2, 3, -4, 5, -6, 7, -8, 0.5f, 0.25f, -1, 2, 0, 0, 1, 1};
    InferResult r = client.infer(InferRequest.builder("mlp").version(1).id("q1")
        .input(InferInput.fp32("x", x, 2, 8)).build());
    assertThat(r.modelName()).isEqualTo("mlp");
    assertThat(r.modelVersion()).isEqualTo("1");
    assertThat(r.id()).isEqualTo("q1");
    assertThat(r.shape("y")).containsExactly(2, 4);
    assertThat(r.datatype("y")).isEqualTo(Datatype.FP32);
    float[] expected = DemoRepository.mlp(1).expected(x, 2);
    float[] actual = r.asFloats("y");
    for (int i = 0; i < expected.length; i++) {
      assertThat(actual[i]).isCloseTo(expected[i], within(1e-4f));
    }
  }

  @Test
  void anOutputComesBackAsItsTopClassesWhenAskedSo() {
    float[] x = {1, -2, 3, -4, 5, -6, 7, -8};
    InferResult r = client.infer(InferRequest.builder("mlp").version(1).input(InferInput.fp32("x", x, 1, 8))
        .classification("y", 2).build());
    float[] y = DemoRepository.mlp(1).expected(x, 1);
    int first = 0;
    for (int i = 1; i < y.length; i++) {
      first = y[i] > y[first] ? i : first;
    }
    assertThat(r.datatype("y")).isEqualTo(Datatype.BYTES);
    assertThat(r.shape("y")).containsExactly(1, 2);
    List<String> classes = r.asStrings("y");
    assertThat(classes).hasSize(2);
    assertThat(classes.get(0)).endsWith(":" + first);
    assertThat(Float.parseFloat(classes.get(0).split(":")[0])).isCloseTo(y[first], within(1e-4f));
  }

  @Test
  void asyncInferManyAtOnce() throws Exception {
    List<CompletableFuture<InferResult>> futures = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      float v = i;
      futures.add(client.inferAsync(InferRequest.builder("add_sub").output("SUM")
          .input(InferInput.fp32("A", new float[] {v, v, v}, 1, 3))
          .input(InferInput.fp32("B", new float[] {1, 2, 3}, 1, 3)).build()));
    }
    for (int i = 0; i < futures.size(); i++) {
      InferResult r = futures.get(i).get(30, TimeUnit.SECONDS);
      assertThat(r.outputNames()).containsExactly("SUM");
      assertThat(r.asFloats("SUM")).containsExactly(i + 1f, i + 2f, i + 3f);
    }
  }

  @Test
  void typedHelpersRoundTrip() {
    assertThat(echo(InferInput.int32("INPUT0", new int[] {1, -2, 3, Integer.MAX_VALUE}, 1, 4), "int32").asInts("OUTPUT0"))
        .containsExactly(1, -2, 3, Integer.MAX_VALUE);
    assertThat(echo(InferInput.int64("INPUT0", new long[] {Long.MIN_VALUE, 0, 5, 6}, 1, 4), "int64").asLongs("OUTPUT0"))
        .containsExactly(Long.MIN_VALUE, 0, 5, 6);
    assertThat(echo(InferInput.fp64("INPUT0", new double[] {0.1, 0.2, 1e300, -3}, 1, 4), "double").asDoubles("OUTPUT0"))
        .containsExactly(0.1, 0.2, 1e300, -3);
    assertThat(echo(InferInput.bool("INPUT0", new boolean[] {true, false, false, true}, 1, 4), "bool")
        .asBooleans("OUTPUT0")).containsExactly(true, false, false, true);
    assertThat(echo(InferInput.uint8("INPUT0", new byte[] {0, 1, (byte) 200, (byte) 255}, 1, 4), "uint8")
        .asRawBytes("OUTPUT0")).containsExactly(0, 1, (byte) 200, (byte) 255);
    InferResult text = client.infer(InferRequest.builder("text_echo")
        .input(InferInput.strings("TEXT", new String[] {"grüß", "gott"}, 2)).build());
    assertThat(text.asStrings("TEXT_OUT")).containsExactly("grüß", "gott");
  }

  @Test
  void failuresCarryTheStatusAndTheServersMessage() {
    assertThatThrownBy(() -> client.infer(InferRequest.builder("nope").input(InferInput.fp32("x", new float[8], 1, 8))
        .build())).isInstanceOfSatisfying(JunctionException.class, e -> {
          assertThat(e.code()).isEqualTo(Status.Code.NOT_FOUND);
          assertThat(e.serverMessage()).contains("model 'nope'");
        });
    CompletableFuture<InferResult> bad = client.inferAsync(InferRequest.builder("mlp")
        .input(InferInput.fp32("x", new float[4], 1, 4)).build());
    assertThatThrownBy(() -> bad.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
        .cause().isInstanceOfSatisfying(JunctionException.class, e -> {
          assertThat(e.code()).isEqualTo(Status.Code.INVALID_ARGUMENT);
          assertThat(e.serverMessage()).contains("input 'x'", "shape [1, 4]");
        });
  }

  @Test
  void inputsThatDoNotFitTheirShapeAreCaughtBeforeSending() {
    assertThatThrownBy(() -> InferInput.fp32("x", new float[3], 2, 2))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("input 'x': shape [2, 2] holds 4 elements, got 3");
    assertThatThrownBy(() -> JunctionClient.builder("h:1").defaultDeadline(Duration.ZERO))
        .hasMessage("defaultDeadline must be positive, got PT0S");
  }

  private static InferResult echo(InferInput input, String type) {
    return client.infer(InferRequest.builder("identity_" + type).input(input).build());
  }
}
