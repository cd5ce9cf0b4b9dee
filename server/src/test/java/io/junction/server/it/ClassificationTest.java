package io.junction.server.it;

import static io.junction.server.InferRequests.floats;
import static io.junction.server.InferRequests.rawFp32;
import static io.junction.server.InferRequests.strings;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.junction.proto.inference.InferParameter;
import io.junction.proto.inference.ModelInferRequest;
import io.junction.proto.inference.ModelInferRequest.InferRequestedOutputTensor;
import io.junction.proto.inference.ModelInferResponse;
import io.junction.proto.inference.ServerMetadataRequest;
import io.junction.server.InferRequests;
import io.junction.server.TestServer;
import io.junction.testkit.DemoRepository;
import io.junction.testkit.ImageClassifier;
import io.junction.testkit.ModelRepositoryWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Triton's classification extension over gRPC and REST, against the demo image classifier's real answers. */
class ClassificationTest {
  @TempDir static Path dir;
  static TestServer server;
  static final ImageClassifier CLASSIFIER = DemoRepository.imageClassifier();
  static final int PIXELS = CLASSIFIER.channels() * CLASSIFIER.height() * CLASSIFIER.width();

  static final String LABELLED = "labelled_classifier";
  static final String MISLABELLED = "mislabelled_classifier";

  @BeforeAll
  static void start() throws Exception {
    Path repo = DemoRepository.write(dir.resolve("repo"));
    ModelRepositoryWriter writer = new ModelRepositoryWriter(repo);
    for (String name : List.of(LABELLED, MISLABELLED)) {
      writer.model(name, 1, CLASSIFIER.onnx()).config(name, "max_batch_size: 8\n"
          + "input [ { name: \"" + ImageClassifier.INPUT + "\", data_type: TYPE_FP32, dims: [ " + CLASSIFIER.channels()
          + ", " + CLASSIFIER.height() + ", " + CLASSIFIER.width() + " ] } ]\n"
          + "output [ { name: \"" + ImageClassifier.OUTPUT + "\", data_type: TYPE_FP32, dims: [ " + CLASSIFIER.classes()
          + " ], label_filename: \"" + (name.equals(LABELLED) ? "labels.txt" : "../labels.txt") + "\" } ]\n");
    }
    // One line short: the last class has no label.
    Files.writeString(repo.resolve(LABELLED).resolve("labels.txt"), "cat\ndog\nfish\nbird\n");
    server = TestServer.start(repo);
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void theServerSaysItClassifies() {
    assertThat(server.blocking().serverMetadata(ServerMetadataRequest.getDefaultInstance()).getExtensionsList())
        .contains("classification");
  }

  @Test
  void anOutputAskedForAsClassesIsItsTopValuesWithTheirIndices() {
    float[] images = InferRequests.ramp(2 * PIXELS, 1e-4f);
    for (int i = PIXELS; i < 2 * PIXELS; i++) {
      images[i] = 1 - images[i]; // a second image unlike the first
    }
    ModelInferRequest plain = image(images);
    float[] scores = floats(server.blocking().modelInfer(plain), 0);
    ModelInferResponse classified = server.blocking().modelInfer(plain.toBuilder()
        .addOutputs(InferRequestedOutputTensor.newBuilder().setName(ImageClassifier.OUTPUT)
            .putParameters("classification", InferParameter.newBuilder().setInt64Param(3).build()))
        .build());
    assertThat(classified.getOutputs(0).getDatatype()).isEqualTo("BYTES");
    assertThat(classified.getOutputs(0).getShapeList()).containsExactly(2L, 3L);
    assertThat(strings(classified, 0)).containsExactlyElementsOf(expectedClasses(scores, 2, 3));
  }

  @Test
  void restClientsAskTheSameWayAndMoreClassesThanThereAreGiveThemAll() throws Exception {
    float[] image = InferRequests.ramp(PIXELS, 2e-4f);
    float[] scores = floats(server.blocking().modelInfer(image(image)), 0);
    StringBuilder data = new StringBuilder();
    for (float f : image) {
      data.append(data.length() == 0 ? "" : ",").append(f);
    }
    String body = "{\"inputs\":[{\"name\":\"" + ImageClassifier.INPUT + "\",\"datatype\":\"FP32\",\"shape\":[1,"
        + CLASSIFIER.channels() + "," + CLASSIFIER.height() + "," + CLASSIFIER.width() + "],\"data\":[" + data + "]}],"
        + "\"outputs\":[{\"name\":\"" + ImageClassifier.OUTPUT + "\",\"parameters\":{\"classification\":50}}]}";
    HttpResponse<String> answer = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
        + server.server().httpPort().orElseThrow() + "/v2/models/" + DemoRepository.IMAGE_CLASSIFIER + "/infer"))
        .timeout(Duration.ofSeconds(10)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
    JsonObject output = JsonParser.parseString(answer.body()).getAsJsonObject().getAsJsonArray("outputs").get(0)
        .getAsJsonObject();
    assertThat(output.get("datatype").getAsString()).isEqualTo("BYTES");
    assertThat(output.get("shape").toString()).isEqualTo("[1," + CLASSIFIER.classes() + "]");
    List<String> classes = new ArrayList<>();
    output.getAsJsonArray("data").forEach(e -> classes.add(e.getAsString()));
    assertThat(classes).containsExactlyElementsOf(expectedClasses(scores, 1, CLASSIFIER.classes()));
  }

  @Test
  void classesCarryTheLabelsTheOutputsLabelFileGives() {
    float[] image = InferRequests.ramp(PIXELS, 3e-4f);
    float[] scores = floats(server.blocking().modelInfer(image(image)), 0);
    ModelInferResponse classified = server.blocking().modelInfer(image(image).toBuilder().setModelName(LABELLED)
        .addOutputs(InferRequestedOutputTensor.newBuilder().setName(ImageClassifier.OUTPUT)
            .putParameters("classification", InferParameter.newBuilder().setInt64Param(CLASSIFIER.classes()).build()))
        .build());
    List<String> labels = List.of("cat", "dog", "fish", "bird");
    List<String> expected = expectedClasses(scores, 1, CLASSIFIER.classes()).stream().map(c -> {
      int index = Integer.parseInt(c.substring(c.indexOf(':') + 1));
      return index < labels.size() ? c + ":" + labels.get(index) : c;
    }).toList();
    assertThat(strings(classified, 0)).containsExactlyElementsOf(expected);
  }

  @Test
  void aLabelFileOutsideTheModelsDirectoryFailsTheLoadSayingWhy() {
    assertThat(server.indexEntry(MISLABELLED).getState()).isEqualTo("UNAVAILABLE");
    assertThat(server.indexEntry(MISLABELLED).getReason()).contains("model '" + MISLABELLED + "' version 1: output '"
        + ImageClassifier.OUTPUT + "': label_filename '../labels.txt'", "must be a plain file name");
  }

  @Test
  void aClassificationThatCannotBeIsInvalidNamingTheOutput() {
    ModelInferRequest image = image(InferRequests.ramp(PIXELS, 1e-4f));
    for (InferParameter bad : List.of(InferParameter.newBuilder().setInt64Param(0).build(),
        InferParameter.newBuilder().setStringParam("3").build())) {
      assertThatThrownBy(() -> server.blocking().modelInfer(image.toBuilder().addOutputs(InferRequestedOutputTensor
          .newBuilder().setName(ImageClassifier.OUTPUT).putParameters("classification", bad)).build()))
          .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(e.getStatus().getDescription()).contains(DemoRepository.IMAGE_CLASSIFIER,
                "output '" + ImageClassifier.OUTPUT + "'", "classification");
          });
    }
  }

  private static ModelInferRequest image(float[] images) {
    int batch = images.length / PIXELS;
    return rawFp32(DemoRepository.IMAGE_CLASSIFIER, "", ImageClassifier.INPUT, images, batch, CLASSIFIER.channels(),
        CLASSIFIER.height(), CLASSIFIER.width());
  }

  /** "value:index" of each row's {@code k} highest scores, highest first. */
  private static List<String> expectedClasses(float[] scores, int rows, int k) {
    int classes = scores.length / rows;
    List<String> expected = new ArrayList<>();
    for (int row = 0; row < rows; row++) {
      int base = row * classes;
      IntStream.range(0, classes).boxed()
          .sorted(Comparator.comparingDouble((Integer i) -> -scores[base + i]).thenComparingInt(i -> i))
          .limit(k).forEach(i -> expected.add(scores[base + i] + ":" + i));
    }
    return expected;
  }
}
