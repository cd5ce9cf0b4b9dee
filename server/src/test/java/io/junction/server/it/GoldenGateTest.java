package io.junction.server.it;

import static io.junction.server.InferRequests.floats;
import static io.junction.server.InferRequests.rawFp32;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.junction.proto.inference.RepositoryIndexRequest;
import io.junction.proto.inference.RepositoryIndexResponse.ModelIndex;
import io.junction.server.TestServer;
import io.junction.server.config.ModelControl;
import io.junction.server.config.ServerConfig;
import io.junction.testkit.Mlp;
import io.junction.testkit.ModelRepositoryWriter;
import io.junction.testkit.NpzWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A version's own golden files gate it: the server runs them after warm-up and refuses a version that
 * answers wrongly, so a wrong model never takes traffic, and the reason is in the repository index.
 */
class GoldenGateTest {
  private static final float[] X = {0.5f, -1, 2, 0.25f};

  @TempDir Path repo;

  private static String json(float[] values) {
    return "[" + IntStream.range(0, values.length)
        .mapToObj(i -> String.format(Locale.ROOT, "%.9g", values[i])).collect(Collectors.joining(", ")) + "]";
  }

  /** A golden file saying what {@code truth} answers to {@link #X}. */
  private static byte[] goldenLines(Mlp truth) {
    return ("{\"name\": \"row\", \"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [1, 4], \"data\": "
        + json(X) + "}], \"outputs\": [{\"name\": \"y\", \"shape\": [1, 2], \"data\": " + json(truth.expected(X, 1))
        + "}]}\n").getBytes(StandardCharsets.UTF_8);
  }

  private static List<ModelIndex> index(TestServer server) {
    return server.blocking().repositoryIndex(RepositoryIndexRequest.getDefaultInstance()).getModelsList();
  }

  private static ModelIndex entry(TestServer server, String name, String version) {
    return index(server).stream().filter(m -> m.getName().equals(name) && m.getVersion().equals(version)).findFirst()
        .orElseThrow();
  }

  @Test
  void aVersionThatAnswersItsGoldenFileServes() throws Exception {
    Mlp model = Mlp.seeded(4, 2, 1);
    new ModelRepositoryWriter(repo).model("alpha", 1, model.onnx()).config("alpha", "max_batch_size: 4\n")
        .file("alpha", "1/golden.jsonl", goldenLines(model));

    try (TestServer server = TestServer.start(repo)) {
      assertThat(entry(server, "alpha", "1").getState()).isEqualTo("READY");
      float[] y = floats(server.blocking().modelInfer(rawFp32("alpha", "1", "x", X, 1, 4)), 0);
      assertThat(y).containsExactly(model.expected(X, 1), Offset.offset(1e-5f));
    }
  }

  @Test
  void aVersionThatAnswersOtherwiseIsRefusedWithTheCaseAndTheDeviation() throws Exception {
    Mlp model = Mlp.seeded(4, 2, 1);
    Mlp other = Mlp.seeded(4, 2, 7);
    new ModelRepositoryWriter(repo).model("alpha", 1, model.onnx()).config("alpha", "max_batch_size: 4\n")
        .file("alpha", "1/golden.jsonl", goldenLines(other));

    try (TestServer server = TestServer.start(repo)) {
      ModelIndex alpha = entry(server, "alpha", "1");
      assertThat(alpha.getState()).isEqualTo("UNAVAILABLE");
      assertThat(alpha.getReason()).contains("model 'alpha' version 1: golden file golden.jsonl on cpu fails: "
          + "case 'row', output y: largest deviation");
      assertThatThrownBy(() -> server.blocking().modelInfer(rawFp32("alpha", "1", "x", X, 1, 4)))
          .isInstanceOfSatisfying(StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
    }
  }

  @Test
  void aNewVersionFailingItsNpzGoldenFileNeverTakesTrafficAndTheOldOneServesOn() throws Exception {
    Mlp v1 = Mlp.seeded(4, 2, 1);
    Mlp wrong = Mlp.seeded(4, 2, 7);
    ModelRepositoryWriter writer = new ModelRepositoryWriter(repo).model("alpha", 1, v1.onnx())
        .config("alpha", "max_batch_size: 4\n");
    try (TestServer server = TestServer.start(ServerConfig.loopback(repo)
        .withControl(ModelControl.poll(Duration.ofMillis(200))))) {
      // Written as a release script would: the golden file first, then the model it vouches for.
      Path golden = repo.resolve("alpha/2/golden.npz");
      Files.createDirectories(golden.getParent());
      new NpzWriter().floats("row/input.x", new long[] {1, 4}, X).floats("row/output.y", new long[] {1, 2},
          v1.expected(X, 1)).write(golden, true);
      writer.model("alpha", 2, wrong.onnx());

      await().atMost(Duration.ofSeconds(10)).until(() -> entry(server, "alpha", "1").getReason().contains("golden"));
      assertThat(entry(server, "alpha", "1").getState()).isEqualTo("READY");
      assertThat(entry(server, "alpha", "1").getReason()).contains("serving the previous load",
          "model 'alpha' version 2: golden file golden.npz on cpu fails: case 'row', output y: largest deviation");
      for (int i = 0; i < 20; i++) {
        assertThat(server.blocking().modelInfer(rawFp32("alpha", "", "x", X, 1, 4)).getModelVersion()).isEqualTo("1");
      }
    }
  }

  @Test
  void aGoldenFileThatDoesNotFitTheModelSaysWhy() throws Exception {
    Mlp model = Mlp.seeded(4, 2, 1);
    new ModelRepositoryWriter(repo).model("alpha", 1, model.onnx()).config("alpha", "max_batch_size: 4\n")
        .file("alpha", "1/golden.jsonl", ("{\"name\": \"wide\", \"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", "
            + "\"shape\": [1, 3], \"data\": [1, 2, 3]}], \"outputs\": [{\"name\": \"y\", \"data\": [0, 0]}]}\n")
            .getBytes(StandardCharsets.UTF_8))
        .model("beta", 1, model.onnx()).config("beta", "max_batch_size: 4\n")
        .file("beta", "1/golden.jsonl", "{\"inputs\": 3}\n".getBytes(StandardCharsets.UTF_8));

    try (TestServer server = TestServer.start(repo)) {
      assertThat(entry(server, "alpha", "1").getReason()).contains("golden file golden.jsonl on cpu, case 'wide': ",
          "input 'x'", "[1, 3]");
      assertThat(entry(server, "beta", "1").getReason())
          .contains("model 'beta' version 1: golden file golden.jsonl: line 1: \"inputs\" must be an array");
      assertThat(Arrays.asList(entry(server, "alpha", "1").getState(), entry(server, "beta", "1").getState()))
          .containsOnly("UNAVAILABLE");
    }
  }
}
