package io.junction.server.it;

import static io.junction.server.InferRequests.floats;
import static io.junction.server.InferRequests.input;
import static io.junction.server.InferRequests.ramp;
import static io.junction.server.InferRequests.rawFp32;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.google.protobuf.ByteString;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.stub.StreamObserver;
import io.junction.proto.inference.InferTensorContents;
import io.junction.proto.inference.ModelConfigRequest;
import io.junction.proto.inference.ModelInferRequest;
import io.junction.proto.inference.ModelInferResponse;
import io.junction.proto.inference.ModelMetadataRequest;
import io.junction.proto.inference.ModelMetadataResponse;
import io.junction.proto.inference.ModelReadyRequest;
import io.junction.proto.inference.ServerLiveRequest;
import io.junction.proto.inference.ServerMetadataRequest;
import io.junction.proto.inference.ServerMetadataResponse;
import io.junction.proto.inference.ServerReadyRequest;
import io.junction.server.InferRequests;
import io.junction.server.TestServer;
import io.junction.testkit.DemoRepository;
import io.junction.testkit.ImageClassifier;
import io.junction.testkit.Mlp;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo repository served end to end, checked as a new user's client would check it. */
class DemoRepositoryEndToEndTest {
  @TempDir static Path repo;
  static TestServer server;

  @BeforeAll
  static void start() throws Exception {
    DemoRepository.write(repo);
    server = TestServer.start(repo);
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  @Test
  void serverIsLiveReadyAndDescribesItself() {
    assertThat(server.blocking().serverLive(ServerLiveRequest.getDefaultInstance()).getLive()).isTrue();
    assertThat(server.blocking().serverReady(ServerReadyRequest.getDefaultInstance()).getReady()).isTrue();
    ServerMetadataResponse meta = server.blocking().serverMetadata(ServerMetadataRequest.getDefaultInstance());
    assertThat(meta.getName()).isEqualTo("junction");
    assertThat(meta.getExtensionsList()).contains("model_repository", "statistics", "model_configuration");
  }

  @Test
  void everyDemoModelHasMetadata() {
    ModelMetadataResponse mlp = server.blocking().modelMetadata(ModelMetadataRequest.newBuilder().setName("mlp").build());
    assertThat(mlp.getVersionsList()).containsExactly("1", "2");
    assertThat(mlp.getPlatform()).isEqualTo("onnxruntime_onnx");
    assertThat(mlp.getInputs(0).getName()).isEqualTo("x");
    assertThat(mlp.getInputs(0).getDatatype()).isEqualTo("FP32");
    assertThat(mlp.getInputs(0).getShapeList()).containsExactly(-1L, 8L);
    assertThat(mlp.getOutputs(0).getShapeList()).containsExactly(-1L, 4L);

    ModelMetadataResponse addSub = server.blocking().modelMetadata(ModelMetadataRequest.newBuilder().setName("add_sub").build());
    assertThat(addSub.getInputsList()).extracting(ModelMetadataResponse.TensorMetadata::getName).containsExactly("A", "B");
    assertThat(addSub.getOutputsList()).extracting(ModelMetadataResponse.TensorMetadata::getName).containsExactly("SUM", "DIFF");

    ModelMetadataResponse image = server.blocking().modelMetadata(
        ModelMetadataRequest.newBuilder().setName("image_classifier").build());
    assertThat(image.getInputs(0).getShapeList()).containsExactly(-1L, 3L, 48L, 192L);

    // text_echo has no config.pbtxt: its signature is inferred from the ONNX file.
    ModelMetadataResponse text = server.blocking().modelMetadata(ModelMetadataRequest.newBuilder().setName("text_echo").build());
    assertThat(text.getInputs(0).getDatatype()).isEqualTo("BYTES");
    assertThat(text.getInputs(0).getShapeList()).containsExactly(-1L);
    assertThat(server.blocking().modelConfig(ModelConfigRequest.newBuilder().setName("text_echo").build())
        .getConfig().getMaxBatchSize()).as("Triton's default max batch size for an inferred config").isEqualTo(4);
  }

  @Test
  void mlpAnswersMatchPlainJavaForEachVersion() {
    int rows = 3;
    float[] x = ramp(rows * DemoRepository.MLP_INPUTS, 0.25f);
    for (int version : new int[] {1, 2}) {
      ModelInferResponse r = server.blocking().modelInfer(
          rawFp32("mlp", Integer.toString(version), Mlp.INPUT, x, rows, DemoRepository.MLP_INPUTS));
      assertThat(r.getModelVersion()).isEqualTo(Integer.toString(version));
      assertThat(r.getOutputs(0).getShapeList()).containsExactly((long) rows, (long) DemoRepository.MLP_OUTPUTS);
      assertClose(floats(r, 0), DemoRepository.mlp(version).expected(x, rows));
    }
    assertThat(DemoRepository.mlp(1).expected(x, rows)).as("the two versions must differ for this test to mean anything")
        .isNotEqualTo(DemoRepository.mlp(2).expected(x, rows));
    ModelInferResponse newest = server.blocking().modelInfer(rawFp32("mlp", "", Mlp.INPUT, x, rows, 8));
    assertThat(newest.getModelVersion()).as("an empty version picks the newest ready one").isEqualTo("2");
  }

  @Test
  void typedContentsGiveTheSameAnswerAsRaw() {
    float[] x = ramp(8, 0.5f);
    InferTensorContents.Builder contents = InferTensorContents.newBuilder();
    for (float v : x) {
      contents.addFp32Contents(v);
    }
    ModelInferRequest typed = ModelInferRequest.newBuilder().setModelName("mlp").setModelVersion("1")
        .addInputs(input("x", "FP32", 1, 8).setContents(contents)).build();
    assertClose(floats(server.blocking().modelInfer(typed), 0), DemoRepository.mlp(1).expected(x, 1));
  }

  @Test
  void addSubHonoursRequestedOutputs() {
    float[] a = {1, 2, 3, 4, 5, 6};
    float[] b = {0.5f, -1, 2, 8, 0, -3};
    ModelInferRequest.Builder request = ModelInferRequest.newBuilder().setModelName("add_sub").setId("req-7")
        .addInputs(input("A", "FP32", 2, 3)).addInputs(input("B", "FP32", 2, 3))
        .addRawInputContents(InferRequests.fp32(a)).addRawInputContents(InferRequests.fp32(b));
    ModelInferResponse both = server.blocking().modelInfer(request.build());
    assertThat(both.getId()).isEqualTo("req-7");
    assertThat(both.getOutputsList()).extracting(ModelInferResponse.InferOutputTensor::getName).containsExactly("SUM", "DIFF");
    assertThat(floats(both, 0)).containsExactly(1.5f, 1, 5, 12, 5, 3);
    assertThat(floats(both, 1)).containsExactly(0.5f, 3, 1, -4, 5, 9);

    ModelInferResponse diffOnly = server.blocking().modelInfer(request.addOutputs(
        ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName("DIFF")).build());
    assertThat(diffOnly.getOutputsCount()).isEqualTo(1);
    assertThat(diffOnly.getOutputs(0).getName()).isEqualTo("DIFF");
    assertThat(floats(diffOnly, 0)).containsExactly(0.5f, 3, 1, -4, 5, 9);
  }

  @Test
  void imageClassifierGivesCorrectProbabilities() {
    ImageClassifier model = DemoRepository.imageClassifier();
    int batch = 2;
    float[] images = ramp(batch * 3 * 48 * 192, 0.01f);
    ModelInferResponse r = server.blocking().modelInfer(
        rawFp32("image_classifier", "", ImageClassifier.INPUT, images, batch, 3, 48, 192));
    assertThat(r.getOutputs(0).getShapeList()).containsExactly(2L, 5L);
    assertClose(floats(r, 0), model.expected(images, batch));
  }

  @Test
  void textEchoReturnsStringsSentRawOrTyped() {
    ModelInferResponse raw = server.blocking().modelInfer(ModelInferRequest.newBuilder().setModelName("text_echo")
        .addInputs(input("TEXT", "BYTES", 3)).addRawInputContents(InferRequests.bytesRaw("héllo", "", "wörld")).build());
    assertThat(raw.getOutputs(0).getDatatype()).isEqualTo("BYTES");
    assertThat(InferRequests.strings(raw, 0)).containsExactly("héllo", "", "wörld");

    ModelInferResponse typed = server.blocking().modelInfer(ModelInferRequest.newBuilder().setModelName("text_echo")
        .addInputs(input("TEXT", "BYTES", 2).setContents(InferTensorContents.newBuilder()
            .addBytesContents(ByteString.copyFromUtf8("a"))
            .addBytesContents(ByteString.copyFromUtf8("bc")))).build());
    assertThat(InferRequests.strings(typed, 0)).containsExactly("a", "bc");
  }

  @Test
  void modelReadyReportsVersions() {
    assertThat(server.blocking().modelReady(ModelReadyRequest.newBuilder().setName("mlp").setVersion("1").build())
        .getReady()).isTrue();
    assertThat(server.blocking().modelReady(ModelReadyRequest.newBuilder().setName("mlp").setVersion("3").build())
        .getReady()).isFalse();
    assertThat(server.blocking().modelReady(ModelReadyRequest.newBuilder().setName("nope").build()).getReady()).isFalse();
  }

  @Test
  void reflectionListsTheInferenceServiceInBothVersions() throws Exception {
    CompletableFuture<List<String>> v1 = new CompletableFuture<>();
    List<String> names = new ArrayList<>();
    StreamObserver<ServerReflectionRequest> requests = ServerReflectionGrpc.newStub(server.channel())
        .serverReflectionInfo(new StreamObserver<>() {
          @Override
          public void onNext(ServerReflectionResponse value) {
            value.getListServicesResponse().getServiceList().forEach(s -> names.add(s.getName()));
          }

          @Override
          public void onError(Throwable t) {
            v1.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {
            v1.complete(names);
          }
        });
    requests.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
    requests.onCompleted();
    assertThat(v1.get(10, TimeUnit.SECONDS)).contains("inference.GRPCInferenceService", "grpc.health.v1.Health");

    CompletableFuture<String> v1alpha = new CompletableFuture<>();
    StreamObserver<io.grpc.reflection.v1alpha.ServerReflectionRequest> alpha =
        io.grpc.reflection.v1alpha.ServerReflectionGrpc.newStub(server.channel()).serverReflectionInfo(new StreamObserver<>() {
          @Override
          public void onNext(io.grpc.reflection.v1alpha.ServerReflectionResponse value) {
            v1alpha.complete(value.getFileDescriptorResponse().getFileDescriptorProtoCount() > 0 ? "found" : "empty");
          }

          @Override
          public void onError(Throwable t) {
            v1alpha.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {
            v1alpha.complete("completed without answer");
          }
        });
    alpha.onNext(io.grpc.reflection.v1alpha.ServerReflectionRequest.newBuilder()
        .setFileContainingSymbol("inference.GRPCInferenceService.ModelInfer").build());
    alpha.onCompleted();
    assertThat(v1alpha.get(10, TimeUnit.SECONDS)).isEqualTo("found");
  }

  @Test
  void healthServesTheServerAndEachModel() {
    HealthGrpc.HealthBlockingStub health = HealthGrpc.newBlockingStub(server.channel());
    assertThat(health.check(HealthCheckRequest.newBuilder().setService("").build()).getStatus())
        .isEqualTo(ServingStatus.SERVING);
    assertThat(health.check(HealthCheckRequest.newBuilder().setService("mlp").build()).getStatus())
        .isEqualTo(ServingStatus.SERVING);
  }

  @Test
  void httpProbesAnswer() throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    int port = server.server().httpPort().orElseThrow();
    for (String path : List.of("/health/live", "/health/ready", "/v2/health/ready")) {
      HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
          .build(), HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode()).as(path).isEqualTo(200);
    }
  }

  static void assertClose(float[] actual, float[] expected) {
    assertThat(actual).hasSameSizeAs(expected);
    for (int i = 0; i < expected.length; i++) {
      assertThat(actual[i]).as("element %d", i).isCloseTo(expected[i], within(1e-4f));
    }
  }
}
