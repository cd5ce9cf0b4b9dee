package io.junction.server.it;

import static io.junction.server.InferRequests.fp32;
import static io.junction.server.InferRequests.input;
import static io.junction.server.InferRequests.rawFp32;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.WireFormat;
import io.grpc.CallOptions;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import io.junction.proto.inference.InferParameter;
import io.junction.proto.inference.InferTensorContents;
import io.junction.proto.inference.ModelInferRequest.InferRequestedOutputTensor;
import io.junction.proto.inference.ModelInferRequest;
import io.junction.proto.inference.ModelInferResponse;
import io.junction.proto.inference.ModelStreamInferResponse;
import io.junction.proto.inference.RepositoryIndexRequest;
import io.junction.proto.inference.RepositoryIndexResponse.ModelIndex;
import io.junction.proto.inference.RepositoryModelLoadRequest;
import io.junction.proto.inference.ServerLiveRequest;
import io.junction.proto.inference.ServerReadyRequest;
import io.junction.server.InferRequests;
import io.junction.server.TestServer;
import io.junction.server.config.ModelControl;
import io.junction.server.config.ServerConfig;
import io.junction.testkit.DemoRepository;
import io.junction.testkit.FixtureModels;
import io.junction.testkit.ModelRepositoryWriter;
import io.junction.testkit.OnnxModelBuilder;
import io.junction.testkit.OnnxType;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every kind of bad request gets a precise status whose message names the model, the tensor, what
 * was expected and what came; and the server keeps serving afterwards.
 */
class BadInputTest {
  /** Small enough that a test can exceed it cheaply. */
  private static final int MAX_MESSAGE_BYTES = 1024 * 1024;

  @TempDir static Path repo;
  static TestServer server;

  @BeforeAll
  static void start() throws Exception {
    DemoRepository.write(repo);
    new ModelRepositoryWriter(repo)
        .file("broken", "1/model.onnx", "this is not an ONNX file".getBytes(StandardCharsets.UTF_8))
        .model("dynamic", 1, new OnnxModelBuilder("dynamic")
            .input("IN", OnnxType.FLOAT, OnnxModelBuilder.DYNAMIC, OnnxModelBuilder.DYNAMIC)
            .output("OUT", OnnxType.FLOAT, OnnxModelBuilder.DYNAMIC, OnnxModelBuilder.DYNAMIC)
            .node("Identity", List.of("IN"), List.of("OUT")).build())
        .config("dynamic", "max_batch_size: 0\n")
        .model("misconfigured", 1, FixtureModels.identity(OnnxType.FLOAT))
        .config("misconfigured", """
            max_batch_size: 8
            input [ { name: "WRONG", data_type: TYPE_FP32, dims: [ 4 ] } ]
            """)
        // Triton repositories' models that need a scheduler Junction does not have: refused by name at load.
        .model("stateful", 1, FixtureModels.identity(OnnxType.FLOAT))
        .config("stateful", """
            max_batch_size: 8
            sequence_batching {
              max_sequence_idle_microseconds: 5000000
              control_input [ { name: "START" control [ { kind: CONTROL_SEQUENCE_START fp32_false_true: [ 0, 1 ] } ] } ]
              oldest { max_candidate_sequences: 4 }
            }
            """)
        .file("pipeline", "1/.keep", new byte[0])
        .config("pipeline", """
            platform: "ensemble"
            max_batch_size: 8
            input [ { name: "x", data_type: TYPE_FP32, dims: [ 8 ] } ]
            output [ { name: "y", data_type: TYPE_FP32, dims: [ 4 ] } ]
            ensemble_scheduling { step [ { model_name: "mlp" model_version: -1
                input_map { key: "x" value: "x" } output_map { key: "y" value: "y" } } ] }
            """);
    ServerConfig config = ServerConfig.loopback(repo);
    server = TestServer.start(config.withLimits(config.limits().withMaxInboundMessageBytes(MAX_MESSAGE_BYTES))
        .withControl(ModelControl.explicit(Set.of("*"))).withOpenRepositoryApi());
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  @Test
  void typedContentsOverTheCapAreRefusedBeforeTheyAreParsed() throws Exception {
    ServerConfig config = ServerConfig.loopback(repo);
    try (TestServer small = TestServer.start(config.withLimits(config.limits().withMaxTypedContentsBytes(64 * 1024)))) {
      // 100,000 int64 zeros: 100 KB on the wire, 800 KB and more once parsed.
      var typed = InferTensorContents.newBuilder();
      for (int i = 0; i < 100_000; i++) {
        typed.addInt64Contents(0);
      }
      var request = ModelInferRequest.newBuilder().setModelName("mlp")
          .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("x")
              .setDatatype("INT64").addShape(12_500).addShape(8).setContents(typed)).build();
      assertThatThrownBy(() -> small.blocking().modelInfer(request)).isInstanceOfSatisfying(StatusRuntimeException.class,
          e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
            assertThat(e.getStatus().getDescription()).contains("typed contents", "raw_input_contents");
          });
      // Large raw requests take the same path (measured, then parsed with their bytes aliased) and work.
      float[] image = new float[8 * 3 * 48 * 192];
      var raw = InferRequests.rawFp32("image_classifier", "", "image", image, 8, 3, 48, 192);
      assertThat(raw.getSerializedSize()).isGreaterThan(64 * 1024);
      assertThat(small.blocking().modelInfer(raw).getOutputs(0).getShapeList()).containsExactly(8L, 5L);
      // Small typed requests are untouched.
      assertThat(small.blocking().modelInfer(ModelInferRequest.newBuilder().setModelName("mlp")
          .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("x")
              .setDatatype("FP32").addShape(1).addShape(8).setContents(InferTensorContents
                  .newBuilder().addAllFp32Contents(Collections.nCopies(8, 1f)))).build()).getOutputsCount())
          .isEqualTo(1);
    }
  }

  /** A marshaller of raw bytes, to send what no generated client would. */
  private static final MethodDescriptor.Marshaller<byte[]> RAW = new MethodDescriptor.Marshaller<>() {
    @Override
    public InputStream stream(byte[] value) {
      return new ByteArrayInputStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  };

  @Test
  void bytesThatDoNotParseGetInvalidArgumentNotUnknown() throws Exception {
    // 100,000 nested groups of an unknown field: beyond protobuf's nesting limit.
    ByteArrayOutputStream nested = new ByteArrayOutputStream();
    for (int i = 0; i < 100_000; i++) {
      nested.write(0xA3); // field 100, start group
      nested.write(0x06);
    }
    for (int i = 0; i < 100_000; i++) {
      nested.write(0xA4); // field 100, end group
      nested.write(0x06);
    }
    var unary = MethodDescriptor.<byte[], byte[]>newBuilder().setType(MethodDescriptor.MethodType.UNARY)
        .setFullMethodName("inference.GRPCInferenceService/ModelInfer").setRequestMarshaller(RAW)
        .setResponseMarshaller(RAW).build();
    // A field whose length is a 64-bit varint that is negative (low 32 bits 2^31 - 1), in a request large enough
    // to be read from a pooled buffer.
    ByteArrayOutputStream negativeLength = new ByteArrayOutputStream();
    CodedOutputStream out = CodedOutputStream.newInstance(negativeLength);
    out.writeTag(1, WireFormat.WIRETYPE_LENGTH_DELIMITED);
    out.writeUInt64NoTag(0x8000_0000_7FFF_FFFFL);
    out.writeRawBytes(new byte[100_000]);
    out.flush();
    for (byte[] body : List.of(nested.toByteArray(), new byte[] {(byte) 0x0A, (byte) 0xFF},
        negativeLength.toByteArray())) {
      assertThatThrownBy(() -> ClientCalls.blockingUnaryCall(server.channel(), unary,
              CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), body))
          .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(e.getStatus().getDescription()).contains("ModelInfer request is not a valid message");
          });
    }
    // On a stream the bad message is answered in turn with an error, and the stream goes on.
    var stream = MethodDescriptor.<byte[], byte[]>newBuilder()
        .setType(MethodDescriptor.MethodType.BIDI_STREAMING)
        .setFullMethodName("inference.GRPCInferenceService/ModelStreamInfer").setRequestMarshaller(RAW)
        .setResponseMarshaller(RAW).build();
    List<byte[]> answers = new CopyOnWriteArrayList<>();
    CountDownLatch done = new CountDownLatch(1);
    var requests = ClientCalls.asyncBidiStreamingCall(server.channel().newCall(stream,
        CallOptions.DEFAULT), new StreamObserver<byte[]>() {
          @Override
          public void onNext(byte[] value) {
            answers.add(value);
          }

          @Override
          public void onError(Throwable t) {
            done.countDown();
          }

          @Override
          public void onCompleted() {
            done.countDown();
          }
        });
    requests.onNext(nested.toByteArray());
    requests.onNext(rawFp32("mlp", "1", "x", new float[8], 1, 8).toByteArray());
    requests.onCompleted();
    assertThat(done.await(20, TimeUnit.SECONDS)).isTrue();
    assertThat(answers).hasSize(2);
    var first = ModelStreamInferResponse.parseFrom(answers.get(0));
    assertThat(first.getErrorMessage()).startsWith("INVALID_ARGUMENT").contains("not a valid message");
    var second = ModelStreamInferResponse.parseFrom(answers.get(1));
    assertThat(second.getErrorMessage()).isEmpty();
    assertThat(second.getInferResponse().getOutputsCount()).isEqualTo(1);
  }

  @AfterEach
  void serverStillServes() {
    assertThat(server.blocking().serverLive(ServerLiveRequest.getDefaultInstance()).getLive()).isTrue();
    float[] x = new float[8];
    assertThat(server.blocking().modelInfer(rawFp32("mlp", "1", "x", x, 1, 8)).getOutputsCount()).isEqualTo(1);
  }

  @Test
  void unknownModel() {
    expect(() -> infer(rawFp32("no_such_model", "", "x", new float[8], 1, 8)),
        Status.Code.NOT_FOUND, "model 'no_such_model'", "not known");
  }

  @Test
  void unknownVersion() {
    expect(() -> infer(rawFp32("mlp", "9", "x", new float[8], 1, 8)), Status.Code.NOT_FOUND, "'mlp'", "no version 9");
    expect(() -> infer(rawFp32("mlp", "latest", "x", new float[8], 1, 8)), Status.Code.NOT_FOUND, "'mlp'", "'latest'");
  }

  @Test
  void wrongDatatype() {
    expect(() -> infer(ModelInferRequest.newBuilder().setModelName("mlp").addInputs(input("x", "INT64", 1, 8))
            .addRawInputContents(ByteString.copyFrom(new byte[64])).build()),
        Status.Code.INVALID_ARGUMENT, "model 'mlp' version 2", "input 'x'", "datatype INT64", "expected FP32");
    expect(() -> infer(ModelInferRequest.newBuilder().setModelName("mlp").addInputs(input("x", "FLOAT", 1, 8))
            .addRawInputContents(fp32(new float[8])).build()),
        Status.Code.INVALID_ARGUMENT, "input 'x'", "unknown datatype 'FLOAT'", "expected FP32");
  }

  @Test
  void wrongShape() {
    expect(() -> infer(rawFp32("mlp", "", "x", new float[7], 1, 7)),
        Status.Code.INVALID_ARGUMENT, "model 'mlp'", "input 'x'", "shape [1, 7]", "expected [-1, 8]");
    expect(() -> infer(rawFp32("mlp", "", "x", new float[8], 8)),
        Status.Code.INVALID_ARGUMENT, "input 'x'", "shape [8]", "expected [-1, 8]");
    expect(() -> infer(rawFp32("mlp", "", "x", new float[0], 0, 8)),
        Status.Code.INVALID_ARGUMENT, "input 'x'", "batch size 0", "1 to 64");
  }

  @Test
  void batchLargerThanMaxBatchSize() {
    expect(() -> infer(rawFp32("mlp", "", "x", new float[65 * 8], 65, 8)),
        Status.Code.INVALID_ARGUMENT, "input 'x'", "batch size 65", "1 to 64 (max_batch_size)");
  }

  @Test
  void rawByteLengthNotMatchingShape() {
    expect(() -> infer(ModelInferRequest.newBuilder().setModelName("mlp").addInputs(input("x", "FP32", 1, 8))
            .addRawInputContents(fp32(new float[7])).build()),
        Status.Code.INVALID_ARGUMENT, "input 'x'", "needs 32 bytes", "got 28");
  }

  @Test
  void claimedSizeIsCheckedBeforeAllocation() {
    // 40 GB claimed, 16 bytes sent: refused by arithmetic, nothing allocated.
    expect(() -> infer(rawFp32("dynamic", "", "IN", new float[4], 100_000, 100_000)),
        Status.Code.INVALID_ARGUMENT, "input 'IN'", "needs 40000000000 bytes", "got 16");
    expect(() -> infer(rawFp32("dynamic", "", "IN", new float[4], 1L << 40, 1L << 40)),
        Status.Code.INVALID_ARGUMENT, "input 'IN'", "more elements than a long holds");
    expect(() -> infer(ModelInferRequest.newBuilder().setModelName("text_echo").addInputs(input("TEXT", "BYTES", 4))
            .addRawInputContents(ByteString.copyFrom(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, 0x7f})).build()),
        Status.Code.INVALID_ARGUMENT, "input 'TEXT'", "claims 4 BYTES elements", "only 4 bytes");
    expect(() -> infer(ModelInferRequest.newBuilder().setModelName("text_echo").addInputs(input("TEXT", "BYTES", 1))
            .addRawInputContents(ByteString.copyFrom(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, 0x7f, 1})).build()),
        Status.Code.INVALID_ARGUMENT, "input 'TEXT'", "element 0 claims 2147483647 bytes", "only 1 remain");
  }

  @Test
  void negativeDimension() {
    expect(() -> infer(rawFp32("mlp", "", "x", new float[8], -1, 8)),
        Status.Code.INVALID_ARGUMENT, "input 'x'", "negative dimension");
  }

  @Test
  void missingInput() {
    expect(() -> infer(rawFp32("add_sub", "", "A", new float[3], 1, 3)),
        Status.Code.INVALID_ARGUMENT, "model 'add_sub'", "missing input 'B'", "FP32", "[-1, 3]");
    expect(() -> infer(ModelInferRequest.newBuilder().setModelName("add_sub").build()),
        Status.Code.INVALID_ARGUMENT, "model 'add_sub'", "no inputs", "'A', 'B'");
  }

  @Test
  void unknownInput() {
    expect(() -> infer(rawFp32("mlp", "", "z", new float[8], 1, 8)),
        Status.Code.INVALID_ARGUMENT, "model 'mlp'", "unknown input 'z'", "['x']");
  }

  @Test
  void duplicateInput() {
    expect(() -> infer(ModelInferRequest.newBuilder().setModelName("mlp")
            .addInputs(input("x", "FP32", 1, 8)).addInputs(input("x", "FP32", 1, 8))
            .addRawInputContents(fp32(new float[8])).addRawInputContents(fp32(new float[8])).build()),
        Status.Code.INVALID_ARGUMENT, "input 'x' appears twice");
  }

  @Test
  void inputsDisagreeOnBatchSize() {
    expect(() -> infer(ModelInferRequest.newBuilder().setModelName("add_sub")
            .addInputs(input("A", "FP32", 2, 3)).addInputs(input("B", "FP32", 1, 3))
            .addRawInputContents(fp32(new float[6])).addRawInputContents(fp32(new float[3])).build()),
        Status.Code.INVALID_ARGUMENT, "input 'B'", "batch size 1", "earlier input has 2");
  }

  @Test
  void unknownRequestedOutput() {
    expect(() -> infer(rawFp32("mlp", "", "x", new float[8], 1, 8).toBuilder()
            .addOutputs(InferRequestedOutputTensor.newBuilder().setName("nope")).build()),
        Status.Code.INVALID_ARGUMENT, "model 'mlp'", "unknown requested output 'nope'", "['y']");
  }

  @Test
  void mixingRawAndTypedContents() {
    expect(() -> infer(ModelInferRequest.newBuilder().setModelName("add_sub")
            .addInputs(input("A", "FP32", 1, 3))
            .addInputs(input("B", "FP32", 1, 3).setContents(InferTensorContents.newBuilder().addFp32Contents(1)))
            .addRawInputContents(fp32(new float[3])).addRawInputContents(fp32(new float[3])).build()),
        Status.Code.INVALID_ARGUMENT, "model 'add_sub'", "input 'B'", "typed contents", "raw_input_contents");
    expect(() -> infer(ModelInferRequest.newBuilder().setModelName("add_sub")
            .addInputs(input("A", "FP32", 1, 3)).addInputs(input("B", "FP32", 1, 3))
            .addRawInputContents(fp32(new float[3])).build()),
        Status.Code.INVALID_ARGUMENT, "2 inputs but 1 raw_input_contents");
  }

  @Test
  void typedCountNotMatchingShape() {
    expect(() -> infer(ModelInferRequest.newBuilder().setModelName("mlp").addInputs(input("x", "FP32", 1, 8)
            .setContents(InferTensorContents.newBuilder().addFp32Contents(1).addFp32Contents(2).addFp32Contents(3)))
            .build()),
        Status.Code.INVALID_ARGUMENT, "input 'x'", "needs 8 values in contents.fp32_contents, got 3");
    expect(() -> infer(ModelInferRequest.newBuilder().setModelName("mlp").addInputs(input("x", "FP32", 1, 8)
            .setContents(InferTensorContents.newBuilder().addIntContents(1))).build()),
        Status.Code.INVALID_ARGUMENT, "needs 8 values in contents.fp32_contents, got 0", "carries int_contents");
  }

  @Test
  void badSchedulingParameters() {
    expect(() -> infer(rawFp32("mlp", "", "x", new float[8], 1, 8).toBuilder()
            .putParameters("priority", InferParameter.newBuilder().setInt64Param(-2).build()).build()),
        Status.Code.INVALID_ARGUMENT, "model 'mlp' version 2", "parameter 'priority' must be 0", "got -2");
    expect(() -> infer(rawFp32("mlp", "", "x", new float[8], 1, 8).toBuilder()
            .putParameters("priority", InferParameter.newBuilder().setStringParam("high").build()).build()),
        Status.Code.INVALID_ARGUMENT, "parameter 'priority' must be an integer", "STRING_PARAM");
    expect(() -> infer(rawFp32("mlp", "", "x", new float[8], 1, 8).toBuilder()
            .putParameters("timeout", InferParameter.newBuilder().setInt64Param(-5).build()).build()),
        Status.Code.INVALID_ARGUMENT, "parameter 'timeout' must be 0..", "got -5");
    expect(() -> infer(rawFp32("mlp", "", "x", new float[8], 1, 8).toBuilder()
            .putParameters("timeout", InferParameter.newBuilder().setUint64Param(-1).build()).build()),
        Status.Code.INVALID_ARGUMENT, "parameter 'timeout' must be 0..", "got 18446744073709551615");
  }

  /** As in Triton: a client that marks its traffic for every model is served by those without its level. */
  @Test
  void aPriorityBeyondTheModelsLevelsRunsAtItsDefault() {
    for (InferParameter priority : List.of(InferParameter.newBuilder().setInt64Param(3).build(),
        InferParameter.newBuilder().setUint64Param(-1).build())) {
      ModelInferResponse answer = server.blocking().modelInfer(rawFp32("mlp", "", "x", new float[8], 1, 8).toBuilder()
          .putParameters("priority", priority).build());
      assertThat(answer.getModelName()).isEqualTo("mlp");
      assertThat(answer.getOutputs(0).getShapeList()).containsExactly(1L, 4L);
    }
  }

  @Test
  void stringThatIsNotUtf8() {
    ByteString notUtf8 = ByteString.copyFrom(new byte[] {1, 0, 0, 0, (byte) 0xC3});
    expect(() -> infer(ModelInferRequest.newBuilder().setModelName("text_echo").addInputs(input("TEXT", "BYTES", 1))
            .addRawInputContents(notUtf8).build()),
        Status.Code.INVALID_ARGUMENT, "model 'text_echo'", "input 'TEXT'", "not valid UTF-8");
  }

  @Test
  void messageOverTheConfiguredMaximum() {
    int rows = 64;
    int cols = MAX_MESSAGE_BYTES / 4 / rows + 16;
    expect(() -> infer(rawFp32("dynamic", "", "IN", new float[rows * cols], rows, cols)),
        Status.Code.RESOURCE_EXHAUSTED, String.valueOf(MAX_MESSAGE_BYTES));
  }

  @Test
  void modelsThatFailToLoadAreReportedAndDoNotStopTheOthers() {
    List<ModelIndex> index = server.blocking().repositoryIndex(RepositoryIndexRequest.getDefaultInstance()).getModelsList();
    ModelIndex broken = index.stream().filter(m -> m.getName().equals("broken")).findFirst().orElseThrow();
    assertThat(broken.getState()).isEqualTo("UNAVAILABLE");
    assertThat(broken.getReason()).contains("model 'broken' version 1", "ONNX Runtime cannot load model.onnx");
    ModelIndex misconfigured = index.stream().filter(m -> m.getName().equals("misconfigured")).findFirst().orElseThrow();
    assertThat(misconfigured.getReason()).contains("declares input 'WRONG'", "does not have", "'INPUT0'");
    ModelIndex stateful = index.stream().filter(m -> m.getName().equals("stateful")).findFirst().orElseThrow();
    assertThat(stateful.getState()).isEqualTo("UNAVAILABLE");
    assertThat(stateful.getReason()).contains("model 'stateful' sets sequence_batching", "stateless models only");
    ModelIndex pipeline = index.stream().filter(m -> m.getName().equals("pipeline")).findFirst().orElseThrow();
    assertThat(pipeline.getState()).isEqualTo("UNAVAILABLE");
    assertThat(pipeline.getReason()).contains("model 'pipeline' is an ensemble", "single models");
    assertThat(index.stream().filter(m -> m.getName().equals("mlp")).map(ModelIndex::getState))
        .containsOnly("READY");

    expect(() -> infer(rawFp32("broken", "", "x", new float[8], 1, 8)),
        Status.Code.UNAVAILABLE, "model 'broken' has no ready version", "version 1 UNAVAILABLE",
        "ONNX Runtime cannot load", "<model-repository>/broken/1/model.onnx");
    assertThat(server.blocking().serverReady(ServerReadyRequest.getDefaultInstance()).getReady())
        .as("strict readiness: not every model is ready").isFalse();
  }

  @Test
  void modelNamesCannotLeaveTheRepository() {
    for (String name : List.of("../etc", "/etc", "mlp/../../x", "..", "a\\b")) {
      expect(() -> server.blocking().repositoryModelLoad(RepositoryModelLoadRequest.newBuilder().setModelName(name).build()),
          Status.Code.NOT_FOUND, "not a valid model name");
    }
  }

  @Test
  void aShapeWhoseByteCountOverflowsIsRefusedBeforeAnythingIsAllocated() {
    // 2^54 × 256 elements fit a long; their 4-byte size does not, and must not wrap to the 0 bytes sent.
    expect(() -> infer(ModelInferRequest.newBuilder().setModelName("dynamic")
            .addInputs(input("IN", "FP32", 18014398509481984L, 256)).addRawInputContents(ByteString.EMPTY).build()),
        Status.Code.INVALID_ARGUMENT, "model 'dynamic' version 1", "input 'IN'", "claims more bytes");
  }

  @Test
  void clientTextIsNotEchoedWithoutBound() {
    String name = "m".repeat(100_000);
    assertThatThrownBy(() -> infer(rawFp32(name, "", "x", new float[8], 1, 8)))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
          assertThat(e.getStatus().getDescription()).startsWith("model 'mmm").contains("more characters")
              .hasSizeLessThan(1100);
        });
  }

  private static void infer(ModelInferRequest request) {
    server.blocking().modelInfer(request);
  }

  private static void expect(ThrowingCallable call, Status.Code code, String... messageParts) {
    assertThatThrownBy(call).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
      assertThat(e.getStatus().getCode()).as("status of %s", e.getStatus()).isEqualTo(code);
      assertThat(e.getStatus().getDescription()).contains(messageParts);
    });
  }
}
