package io.junction.server.it;

import static io.junction.server.InferRequests.rawFp32;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.junction.proto.inference.GRPCInferenceServiceGrpc;
import io.junction.proto.inference.ModelConfigRequest;
import io.junction.proto.inference.ModelInferRequest;
import io.junction.proto.inference.ModelInferResponse;
import io.junction.proto.inference.ModelMetadataRequest;
import io.junction.proto.inference.ModelMetadataResponse;
import io.junction.proto.inference.ModelStatisticsRequest;
import io.junction.server.TestServer;
import io.junction.server.config.ModelControl;
import io.junction.server.config.ServerConfig;
import io.junction.testkit.ModelRepositoryWriter;
import io.junction.testkit.OnnxModelBuilder;
import io.junction.testkit.OnnxType;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Triton's {@code reshape}: clients send and get tensors of config.pbtxt's {@code dims}, the model file takes and
 * makes them in {@code reshape.shape}. The models here compute over the reshaped layout (sums of each row of three),
 * so an answer is only right if the model saw the elements as the reshape lays them out.
 */
class ReshapeTest {
  private static final long DYNAMIC = OnnxModelBuilder.DYNAMIC;
  /** Rows of any number of elements, a multiple of three, taken by the model as triples. */
  private static final String TRIPLES_CONFIG = """
      max_batch_size: 8
      input [ { name: "v" data_type: TYPE_FP32 dims: [ -1 ] reshape: { shape: [ -1, 3 ] } } ]
      output [ { name: "sums" data_type: TYPE_FP32 dims: [ -1 ] reshape: { shape: [ -1, 1 ] } } ]
      """;

  @TempDir Path repo;

  /** {@code x: [batch, 2, 3]}; {@code sums = x · ones(3, 1): [batch, 2, 1]}, {@code doubled = 2x: [batch, 2, 3]}. */
  private static byte[] grid() {
    return new OnnxModelBuilder("grid")
        .input("x", OnnxType.FLOAT, DYNAMIC, 2, 3)
        .output("sums", OnnxType.FLOAT, DYNAMIC, 2, 1)
        .output("doubled", OnnxType.FLOAT, DYNAMIC, 2, 3)
        .initializer("ones", new float[] {1, 1, 1}, 3, 1)
        .initializer("two", new float[] {2})
        .node("MatMul", List.of("x", "ones"), List.of("sums"))
        .node("Mul", List.of("x", "two"), List.of("doubled"))
        .build();
  }

  /** {@code v: [batch, n, 3]} of any n; {@code sums = v · ones(3, 1): [batch, n, 1]}. */
  private static byte[] triples() {
    return new OnnxModelBuilder("triples")
        .input("v", OnnxType.FLOAT, DYNAMIC, DYNAMIC, 3)
        .output("sums", OnnxType.FLOAT, DYNAMIC, DYNAMIC, 1)
        .initializer("ones", new float[] {1, 1, 1}, 3, 1)
        .node("MatMul", List.of("v", "ones"), List.of("sums"))
        .build();
  }

  /** A model of one value a row, {@code s: [batch]}, doubled: what Triton's {@code dims: [1]} reshape {@code []} is for. */
  private static byte[] scalars() {
    return new OnnxModelBuilder("scalars")
        .input("s", OnnxType.FLOAT, DYNAMIC)
        .output("t", OnnxType.FLOAT, DYNAMIC)
        .initializer("two", new float[] {2})
        .node("Mul", List.of("s", "two"), List.of("t"))
        .build();
  }

  @Test
  void clientsSeeDimsAndTheModelSeesTheReshape() throws Exception {
    new ModelRepositoryWriter(repo)
        .model("grid", 1, grid()).config("grid", """
            max_batch_size: 8
            input [ { name: "x" data_type: TYPE_FP32 dims: [ 6 ] reshape: { shape: [ 2, 3 ] } } ]
            output [
              { name: "sums" data_type: TYPE_FP32 dims: [ 2 ] reshape: { shape: [ 2, 1 ] } },
              { name: "doubled" data_type: TYPE_FP32 dims: [ 6 ] reshape: { shape: [ 2, 3 ] } }
            ]
            dynamic_batching { max_queue_delay_microseconds: 20000 }
            """)
        .model("scalars", 1, scalars()).config("scalars", """
            max_batch_size: 8
            input [ { name: "s" data_type: TYPE_FP32 dims: [ 1 ] reshape: { shape: [ ] } } ]
            output [ { name: "t" data_type: TYPE_FP32 dims: [ 1 ] reshape: { shape: [ ] } } ]
            """)
        .model("triples", 1, triples()).config("triples", TRIPLES_CONFIG);
    try (TestServer server = TestServer.start(repo)) {
      ModelInferResponse grid = server.blocking().modelInfer(rawFp32("grid", "", "x", ramp(12), 2, 6));
      assertThat(output(grid, "sums").getShapeList()).containsExactly(2L, 2L);
      assertThat(floats(grid, "sums")).containsExactly(3, 12, 21, 30);
      assertThat(output(grid, "doubled").getShapeList()).containsExactly(2L, 6L);
      assertThat(floats(grid, "doubled")).containsExactly(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22);

      ModelInferResponse scalars = server.blocking().modelInfer(rawFp32("scalars", "", "s", new float[] {1, 2, 3}, 3, 1));
      assertThat(output(scalars, "t").getShapeList()).containsExactly(3L, 1L);
      assertThat(floats(scalars, "t")).containsExactly(2, 4, 6);

      ModelInferResponse triples = server.blocking().modelInfer(rawFp32("triples", "", "v", ramp(12), 2, 6));
      assertThat(output(triples, "sums").getShapeList()).containsExactly(2L, 2L);
      assertThat(floats(triples, "sums")).containsExactly(3, 12, 21, 30);

      // Over REST the same: the JSON's shape is the clients'.
      HttpResponse<String> rest = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
              + server.server().httpPort().orElseThrow() + "/v2/models/grid/infer"))
          .POST(HttpRequest.BodyPublishers.ofString("""
              {"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 6], "data": [0, 1, 2, 3, 4, 5]}],
               "outputs": [{"name": "sums"}]}
              """)).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(rest.statusCode()).as(rest.body()).isEqualTo(200);
      assertThat(rest.body()).contains("\"shape\":[1,2]", "\"data\":[3.0,12.0]");

      // Metadata is the clients' view; the config says both.
      ModelMetadataResponse metadata = server.blocking().modelMetadata(
          ModelMetadataRequest.newBuilder().setName("grid").build());
      assertThat(metadata.getInputs(0).getShapeList()).containsExactly(-1L, 6L);
      assertThat(metadata.getOutputsList()).extracting(o -> o.getShapeList())
          .containsExactlyInAnyOrder(List.of(-1L, 2L), List.of(-1L, 6L));
      assertThat(server.blocking().modelConfig(ModelConfigRequest.newBuilder().setName("grid").build()).getConfig()
          .getInput(0).getReshape().getShapeList()).containsExactly(2L, 3L);
    }
  }

  @Test
  void requestsMergedIntoOneBatchAreEachAnsweredInTheirOwnShape() throws Exception {
    new ModelRepositoryWriter(repo).model("grid", 1, grid()).config("grid", """
        max_batch_size: 8
        input [ { name: "x" data_type: TYPE_FP32 dims: [ 6 ] reshape: { shape: [ 2, 3 ] } } ]
        output [
          { name: "sums" data_type: TYPE_FP32 dims: [ 2 ] reshape: { shape: [ 2, 1 ] } },
          { name: "doubled" data_type: TYPE_FP32 dims: [ 6 ] reshape: { shape: [ 2, 3 ] } }
        ]
        dynamic_batching { max_queue_delay_microseconds: 2000000 preferred_batch_size: [ 6 ] }
        parameters { key: "batch_wait_while_idle" value: { string_value: "true" } }
        """);
    try (TestServer server = TestServer.start(repo)) {
      List<Future<ModelInferResponse>> answers = new ArrayList<>();
      for (int rows = 1; rows <= 3; rows++) {
        float[] x = new float[rows * 6];
        for (int i = 0; i < x.length; i++) {
          x[i] = rows * 100 + i;
        }
        ModelInferRequest request = rawFp32("grid", "", "x", x, rows, 6);
        answers.add(GRPCInferenceServiceGrpc.newFutureStub(server.channel()).modelInfer(request));
      }
      for (int rows = 1; rows <= 3; rows++) {
        ModelInferResponse r = answers.get(rows - 1).get(30, TimeUnit.SECONDS);
        assertThat(output(r, "sums").getShapeList()).containsExactly((long) rows, 2L);
        float[] sums = floats(r, "sums");
        for (int k = 0; k < rows * 2; k++) {
          float first = rows * 100 + 3 * k;
          assertThat(sums[k]).as("rows %d, sum %d", rows, k).isEqualTo(3 * first + 3);
        }
      }
      assertThat(server.blocking().modelStatistics(ModelStatisticsRequest.newBuilder()
          .setName("grid").build()).getModelStats(0).getExecutionCount())
          .as("the three requests ran as one batch of six rows").isEqualTo(1);
    }
  }

  @Test
  void anInputItsReshapeCannotHoldIsInvalid() throws Exception {
    new ModelRepositoryWriter(repo).model("triples", 1, triples()).config("triples", TRIPLES_CONFIG);
    try (TestServer server = TestServer.start(repo)) {
      assertThatThrownBy(() -> server.blocking().modelInfer(rawFp32("triples", "", "v", new float[7], 1, 7)))
          .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(e.getStatus().getDescription()).isEqualTo("model 'triples' version 1: input 'v' has shape "
                + "[1, 7], 7 elements a row, which its reshape [-1, 3] (config.pbtxt) cannot hold");
          });
      assertThat(floats(server.blocking().modelInfer(rawFp32("triples", "", "v", ramp(3), 1, 3)), "sums"))
          .as("the model serves on").containsExactly(3);
    }
  }

  @Test
  void automaticWarmUpSizesAVariableInputForItsReshape() throws Exception {
    // Variable dims warm at 1, which [-1, 3] cannot hold: the reshaped input warms with a row of 3 instead.
    new ModelRepositoryWriter(repo).model("triples", 1, triples()).config("triples", TRIPLES_CONFIG);
    ServerConfig config = ServerConfig.loopback(repo).withControl(ModelControl.NONE.withAutoWarmup(true));
    try (TestServer server = TestServer.start(config)) {
      assertThat(server.indexEntry("triples").getState()).as(server.indexEntry("triples").getReason())
          .isEqualTo("READY");
    }
  }

  @Test
  void reshapesThatCannotWorkFailTheirModelsLoadWithTheReason() throws Exception {
    String input = "input [ { name: \"x\" data_type: TYPE_FP32 dims: %s reshape: { shape: %s } } ]\n";
    String outputs = """
        output [
          { name: "sums" data_type: TYPE_FP32 dims: [ 2 ] reshape: { shape: [ 2, 1 ] } },
          { name: "doubled" data_type: TYPE_FP32 dims: [ 6 ] reshape: { shape: [ 2, 3 ] } }
        ]
        """;
    new ModelRepositoryWriter(repo)
        .model("counts", 1, grid()).config("counts", "max_batch_size: 8\n" + input.formatted("[ 6 ]", "[ 2, 2 ]") + outputs)
        .model("two_dynamic", 1, grid())
        .config("two_dynamic", "max_batch_size: 8\n" + input.formatted("[ -1 ]", "[ -1, -1 ]") + outputs)
        .model("zero", 1, grid()).config("zero", "max_batch_size: 8\n" + input.formatted("[ 6 ]", "[ 0, 3 ]") + outputs)
        .model("file", 1, grid()).config("file", "max_batch_size: 8\n" + input.formatted("[ 6 ]", "[ 3, 2 ]") + outputs)
        .model("ok", 1, grid()).config("ok", "max_batch_size: 8\n" + input.formatted("[ 6 ]", "[ 2, 3 ]") + outputs);
    try (TestServer server = TestServer.start(repo)) {
      assertThat(server.indexEntry("counts").getReason()).contains("model 'counts' version 1: input 'x' has dims [6] "
          + "and reshape [2, 2] in config.pbtxt: 6 elements against 4");
      assertThat(server.indexEntry("two_dynamic").getReason()).contains("input 'x' has dims [-1] and reshape "
          + "[-1, -1] in config.pbtxt: the reshape may have one -1 at most");
      assertThat(server.indexEntry("zero").getReason()).contains("sizes must be positive, or -1 for any size");
      assertThat(server.indexEntry("file").getReason()).contains("input 'x' has reshape [3, 2] (with max_batch_size 8: "
          + "[-1, 3, 2]) in config.pbtxt but shape [-1, 2, 3] in the model file");
      assertThat(server.indexEntry("ok").getState()).isEqualTo("READY");
    }
  }

  private static float[] ramp(int n) {
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = i;
    }
    return x;
  }

  private static ModelInferResponse.InferOutputTensor output(ModelInferResponse r, String name) {
    return r.getOutputsList().stream().filter(o -> o.getName().equals(name)).findFirst().orElseThrow();
  }

  private static float[] floats(ModelInferResponse r, String name) {
    int index = r.getOutputsList().indexOf(output(r, name));
    ByteBuffer b = r.getRawOutputContents(index).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    float[] out = new float[b.remaining() / 4];
    b.asFloatBuffer().get(out);
    return out;
  }
}
