package io.junction.server.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.junction.proto.inference.InferParameter;
import io.junction.proto.inference.InferTensorContents;
import io.junction.proto.inference.ModelConfigRequest;
import io.junction.proto.inference.ModelInferRequest;
import io.junction.proto.inference.ModelInferRequest.InferInputTensor;
import io.junction.proto.inference.ModelInferRequest.InferRequestedOutputTensor;
import io.junction.proto.inference.ModelInferResponse;
import io.junction.proto.inference.ModelMetadataRequest;
import io.junction.proto.inference.ModelMetadataResponse;
import io.junction.proto.inference.ModelReadyRequest;
import io.junction.proto.inference.ModelStatisticsRequest;
import io.junction.proto.inference.ModelStreamInferResponse;
import io.junction.proto.inference.RepositoryModelLoadRequest;
import io.junction.proto.inference.RepositoryModelUnloadRequest;
import io.junction.server.InferRequests;
import io.junction.server.StreamAnswers;
import io.junction.server.TestServer;
import io.junction.testkit.DemoRepository;
import io.junction.testkit.FixtureModels;
import io.junction.testkit.ModelRepositoryWriter;
import io.junction.testkit.OnnxModelBuilder;
import io.junction.testkit.OnnxType;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Requests made at random from valid ones by the mistakes clients make (wrong names, versions, datatypes, shapes,
 * contents and parameters, several at once), sent over ModelInfer, one ModelStreamInfer stream and KServe v2 REST:
 * every request gets exactly one answer, a success that is well formed or one of the statuses a client's mistake
 * earns, with a bounded message; never UNKNOWN or INTERNAL (a server fault), and the server keeps serving a valid call
 * with the same result as before. {@link BadInputTest} pins the message of each mistake alone; this test finds the
 * combinations nobody wrote down.
 *
 * <p>Seeded, so CI runs the same requests every time: a failure names the seed, the mistakes made and the request,
 * and {@code -Djunction.fuzz.seed=N -Djunction.fuzz.requests=M} replays or widens the search.
 */
class FuzzedRequestsTest {
  private static final long SEED = Long.getLong("junction.fuzz.seed", 20261203L);
  private static final int REQUESTS = Integer.getInteger("junction.fuzz.requests", 1500);
  /** What a client's mistake may earn over gRPC; UNKNOWN, INTERNAL, DATA_LOSS ... would be the server's fault. */
  private static final Set<Status.Code> CLIENT_ERRORS = Set.of(Status.Code.INVALID_ARGUMENT, Status.Code.NOT_FOUND,
      Status.Code.FAILED_PRECONDITION, Status.Code.OUT_OF_RANGE, Status.Code.RESOURCE_EXHAUSTED,
      Status.Code.UNAVAILABLE, Status.Code.UNIMPLEMENTED);
  private static final Set<Status.Code> CLIENT_ERRORS_AND_UNAUTHENTICATED = Set.of(Status.Code.INVALID_ARGUMENT,
      Status.Code.NOT_FOUND, Status.Code.FAILED_PRECONDITION, Status.Code.OUT_OF_RANGE, Status.Code.UNAVAILABLE,
      Status.Code.UNIMPLEMENTED, Status.Code.UNAUTHENTICATED, Status.Code.PERMISSION_DENIED);
  private static final Set<Integer> CLIENT_HTTP_ERRORS = Set.of(400, 404, 405, 413, 415, 429, 503);
  private static final int MAX_MESSAGE_CHARS = 8192;
  private static final Map<String, Integer> ELEMENT_BYTES = Map.ofEntries(Map.entry("BOOL", 1),
      Map.entry("UINT8", 1), Map.entry("INT8", 1), Map.entry("UINT16", 2), Map.entry("INT16", 2),
      Map.entry("FP16", 2), Map.entry("BF16", 2), Map.entry("UINT32", 4), Map.entry("INT32", 4),
      Map.entry("FP32", 4), Map.entry("UINT64", 8), Map.entry("INT64", 8), Map.entry("FP64", 8));
  private static final List<String> DATATYPES = List.of("BOOL", "UINT8", "INT8", "UINT16", "INT16", "FP16", "BF16",
      "UINT32", "INT32", "FP32", "UINT64", "INT64", "FP64", "BYTES", "", "fp32", "FP8", "STRING", "TYPE_FP32");
  private static final List<String> ODD_NAMES = List.of("", "nope", "../mlp", "/etc/passwd", "mlp/1", "mlp\u0000",
      "ml p", "\uD83D\uDE00", ".", "..", "MLP", "mlp ".repeat(200), "%2e%2e", "mlp\n");
  private static final List<String> ODD_VERSIONS = List.of("", "1", "2", "0", "-1", "abc", "99999999999999999999",
      " 1", "1.0", "+1", "0x1", "9223372036854775807", "\u0661");
  private static final List<String> PARAMETER_KEYS = List.of("priority", "timeout", "sequence_id", "sequence_start",
      "sequence_end", "binary_data_output", "classification", "binary_data_size", "headers", "x");
  private static final List<OnnxType> BATCHED = List.of(OnnxType.BOOL, OnnxType.INT64, OnnxType.FLOAT16,
      OnnxType.UINT8, OnnxType.DOUBLE);
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @TempDir static Path repo;
  static TestServer server;
  static List<ModelSpec> models;

  /** An input as ModelMetadata describes it: -1 where the dimension is the client's choice. */
  record InputSpec(String name, String datatype, long[] shape) {}

  record ModelSpec(String name, List<InputSpec> inputs, List<String> outputs) {}

  /** A mistake a client makes, by name for the failure message. */
  record Mistake(String name, BiConsumer<Random, ModelInferRequest.Builder> apply) {}

  /** A request and how it was made. */
  record Case(int index, List<String> mistakes, ModelInferRequest request) {
    String describe() {
      String text = request.toString();
      return "request " + index + " of seed " + SEED + " with " + (mistakes.isEmpty() ? "no mistake" : mistakes)
          + ":\n" + (text.length() > 4000 ? text.substring(0, 4000) + " ..." : text);
    }
  }

  @BeforeAll
  static void start() throws Exception {
    DemoRepository.write(repo);
    ModelRepositoryWriter writer = new ModelRepositoryWriter(repo)
        .model("dynamic", 1, new OnnxModelBuilder("dynamic")
            .input("IN", OnnxType.FLOAT, OnnxModelBuilder.DYNAMIC, OnnxModelBuilder.DYNAMIC)
            .output("OUT", OnnxType.FLOAT, OnnxModelBuilder.DYNAMIC, OnnxModelBuilder.DYNAMIC)
            .node("Identity", List.of("IN"), List.of("OUT")).build())
        .config("dynamic", "max_batch_size: 0\n");
    for (OnnxType type : BATCHED) {
      // Batched, so that requests sent together are merged; inputs and outputs as the model file has them. A batch
      // waits for company even on an idle instance: otherwise each call may run alone as it arrives, whenever the
      // server reads them no faster than it runs them (as with every buffer access recorded by the leak guard).
      writer.model("identity_" + type.name().toLowerCase(), 1, FixtureModels.identity(type))
          .config("identity_" + type.name().toLowerCase(),
              "max_batch_size: 8\ndynamic_batching { max_queue_delay_microseconds: 2000 }\n"
              + "parameters { key: \"batch_wait_while_idle\" value: { string_value: \"true\" } }\n");
    }
    server = TestServer.start(repo);
    models = new ArrayList<>();
    for (String name : List.of("mlp", "add_sub", "image_classifier", "text_echo", "dynamic", "identity_bool",
        "identity_int64", "identity_float16", "identity_uint8", "identity_double")) {
      models.add(spec(name));
    }
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static ModelSpec spec(String name) {
    ModelMetadataResponse meta = server.blocking().modelMetadata(ModelMetadataRequest.newBuilder().setName(name).build());
    boolean batched = server.blocking().modelConfig(ModelConfigRequest.newBuilder().setName(name).build())
        .getConfig().getMaxBatchSize() > 0;
    List<InputSpec> inputs = new ArrayList<>();
    for (ModelMetadataResponse.TensorMetadata t : meta.getInputsList()) {
      long[] shape = t.getShapeList().stream().mapToLong(Long::longValue).toArray();
      assertThat(!batched || shape[0] == -1).as("%s's metadata leads with the batch dimension", name).isTrue();
      inputs.add(new InputSpec(t.getName(), t.getDatatype(), shape));
    }
    return new ModelSpec(name, inputs, meta.getOutputsList().stream().map(ModelMetadataResponse.TensorMetadata::getName)
        .toList());
  }

  @Test
  void everyRequestOverModelInferGetsASuccessOrAClientStatus() {
    List<Case> cases = cases(new Random(SEED), REQUESTS);
    int ok = 0;
    for (Case c : cases) {
      try {
        ModelInferResponse response = server.blocking().withDeadlineAfter(20, TimeUnit.SECONDS).modelInfer(c.request());
        checkSuccess(c, response);
        ok++;
      } catch (StatusRuntimeException e) {
        checkClientStatus(c, e.getStatus());
      }
    }
    // Both sides of the search were reached: valid requests served, broken ones refused.
    assertThat(ok).as("requests served").isBetween(cases.size() / 20, cases.size() - cases.size() / 4);
    stillServes();
  }

  /**
   * The same requests sent 32 at a time, so that the batcher merges the valid ones of a model (rows and free
   * dimensions differing) and sees the refused ones between them: each gets the answer it got alone, to the byte.
   */
  @Test
  void requestsSentTogetherGetTheAnswersTheyGetAlone() throws Exception {
    List<Case> cases = cases(new Random(SEED + 3), REQUESTS / 2);
    List<String> alone = new ArrayList<>();
    for (Case c : cases) {
      try {
        alone.add(answer(server.blocking().modelInfer(c.request())));
      } catch (StatusRuntimeException e) {
        alone.add(answer(e.getStatus()));
      }
    }
    double requestsBefore = batchedModels("nv_inference_request_success");
    double runsBefore = batchedModels("nv_inference_exec_count");
    List<CompletableFuture<String>> together = new ArrayList<>();
    Semaphore inFlight = new Semaphore(32);
    for (Case c : cases) {
      inFlight.acquire();
      CompletableFuture<String> answer = new CompletableFuture<>();
      together.add(answer);
      server.async().withDeadlineAfter(30, TimeUnit.SECONDS).modelInfer(c.request(), new StreamObserver<>() {
        @Override
        public void onNext(ModelInferResponse value) {
          answer.complete(answer(value));
        }

        @Override
        public void onError(Throwable t) {
          inFlight.release();
          answer.complete(answer(Status.fromThrowable(t)));
        }

        @Override
        public void onCompleted() {
          inFlight.release();
        }
      });
    }
    int served = 0;
    for (int i = 0; i < cases.size(); i++) {
      String got = together.get(i).get(30, TimeUnit.SECONDS);
      assertThat(got).as("sent with 31 others, %s", cases.get(i).describe()).isEqualTo(alone.get(i));
      served += got.startsWith("OK") ? 1 : 0;
    }
    assertThat(served).isBetween(cases.size() / 20, cases.size() - cases.size() / 4);
    assertThat(batchedModels("nv_inference_exec_count") - runsBefore).as("runs of the batched models: requests "
        + "were merged").isLessThan(batchedModels("nv_inference_request_success") - requestsBefore);
  }

  /** A counter summed over the identity models, which batch. */
  private static double batchedModels(String counter) throws IOException {
    double sum = 0;
    for (OnnxType type : BATCHED) {
      sum += server.metric(counter + "{model=\"identity_" + type.name().toLowerCase() + "\",version=\"1\"}", 0);
    }
    return sum;
  }

  /** A success as comparable text: the outputs' names, shapes and contents. */
  private static String answer(ModelInferResponse r) {
    StringBuilder text = new StringBuilder("OK");
    for (int i = 0; i < r.getOutputsCount(); i++) {
      text.append(' ').append(r.getOutputs(i).getName()).append(r.getOutputs(i).getShapeList()).append(' ')
          .append(i < r.getRawOutputContentsCount()
              ? HexFormat.of().formatHex(r.getRawOutputContents(i).toByteArray())
              : r.getOutputs(i).getContents().toString());
    }
    return text.toString();
  }

  private static String answer(Status status) {
    return status.getCode() + ": " + status.getDescription();
  }

  @Test
  void everyRequestOverOneStreamGetsExactlyOneAnswer() throws Exception {
    List<Case> cases = cases(new Random(SEED + 1), REQUESTS / 2);
    StreamAnswers stream = new StreamAnswers();
    StreamObserver<ModelInferRequest> requests = server.async().withDeadlineAfter(60, TimeUnit.SECONDS)
        .modelStreamInfer(stream);
    for (Case c : cases) {
      requests.onNext(c.request());
    }
    requests.onCompleted();
    List<ModelStreamInferResponse> answers = stream.await(60);
    assertThat(answers).as("one answer for each of %d requests, and the stream ended cleanly", cases.size())
        .hasSize(cases.size());
    Map<String, Case> byId = new HashMap<>();
    cases.forEach(c -> byId.put(c.request().getId(), c));
    int errors = 0;
    for (ModelStreamInferResponse a : answers) {
      // An error answer carries the request's id (as Triton's do), so that a client can tell which one failed.
      Case c = byId.get(a.getInferResponse().getId());
      String what = c == null ? a.toString() : c.describe() + "\nanswered " + a.getErrorMessage();
      if (a.getErrorMessage().isEmpty()) {
        if (c != null) {
          checkSuccess(c, a.getInferResponse());
        } else { // a request whose id was one of the odd ones, which need not be unique
          assertThat(a.getInferResponse().getOutputsCount()).as(what).isPositive();
        }
      } else {
        errors++;
        String code = a.getErrorMessage().substring(0, Math.max(0, a.getErrorMessage().indexOf(':')));
        assertThat(CLIENT_ERRORS.stream().map(Enum::name)).as(what).contains(code);
        assertThat(a.getErrorMessage()).as(what).hasSizeLessThan(MAX_MESSAGE_CHARS);
      }
    }
    assertThat(errors).isBetween(cases.size() / 4, cases.size() - cases.size() / 20);
    stillServes();
  }

  @Test
  void everyRequestOverRestGetsASuccessOrAClientStatus() throws Exception {
    Random random = new Random(SEED + 2);
    int ok = 0;
    int sent = REQUESTS / 3;
    for (int i = 0; i < sent; i++) {
      ModelSpec model = models.get(random.nextInt(models.size()));
      JsonObject body = validJson(random, model);
      List<String> mistakes = new ArrayList<>();
      String path = "/v2/models/" + model.name() + "/infer";
      int count = random.nextInt(4);
      for (int m = 0; m < count; m++) {
        mistakes.add(jsonMistake(random, body));
      }
      String text = body.toString();
      if (random.nextInt(10) == 0) {
        mistakes.add("text cut short");
        text = text.substring(0, random.nextInt(text.length()));
      }
      if (random.nextInt(25) == 0) {
        mistakes.add("nested arrays");
        text = "{\"inputs\":" + "[".repeat(5000) + "]".repeat(5000) + "}";
      }
      if (random.nextInt(25) == 0) {
        mistakes.add("path for an odd model");
        path = "/v2/models/" + encode(any(random, ODD_NAMES)) + "/infer";
      }
      HttpResponse<byte[]> response = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
          + server.server().httpPort().orElseThrow() + path)).timeout(Duration.ofSeconds(20))
          .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(text)).build(),
          HttpResponse.BodyHandlers.ofByteArray());
      // Binary outputs (the binary data extension) follow the JSON, whose length a header gives.
      int jsonBytes = response.headers().firstValue("Inference-Header-Content-Length").map(Integer::parseInt)
          .orElse(response.body().length);
      String answer = new String(response.body(), 0, jsonBytes, StandardCharsets.UTF_8);
      String what = "REST request " + i + " of seed " + (SEED + 2) + " with " + mistakes + " to " + path + ":\n"
          + (text.length() > 2000 ? text.substring(0, 2000) + " ..." : text) + "\nanswered " + response.statusCode()
          + ": " + answer;
      if (response.statusCode() == 200) {
        ok++;
        assertThat(json(answer, what).getAsJsonArray("outputs")).as(what).isNotEmpty();
      } else {
        assertThat(CLIENT_HTTP_ERRORS).as(what).contains(response.statusCode());
        JsonElement error = json(answer, what).get("error");
        assertThat(error).as(what).isNotNull();
        assertThat(error.getAsString()).as(what).isNotBlank().hasSizeLessThan(MAX_MESSAGE_CHARS);
      }
    }
    assertThat(ok).as("REST requests served").isBetween(sent / 20, sent - sent / 4);
    stillServes();
  }

  /**
   * Every other method that names a model (readiness, metadata, config, statistics, and the repository's load and
   * unload, which this server keeps to the admin) with odd names and versions: an answer or a client's status, never
   * a server fault.
   */
  @Test
  void methodsNamingAModelAnswerOddNamesAndVersionsWithClientStatuses() {
    List<String> names = new ArrayList<>(ODD_NAMES);
    names.add("mlp");
    for (String name : names) {
      for (String version : ODD_VERSIONS) {
        String what = "model '" + name + "' version '" + version + "'";
        List<Runnable> calls = List.of(
            () -> server.blocking().modelReady(ModelReadyRequest.newBuilder().setName(name).setVersion(version).build()),
            () -> server.blocking().modelMetadata(ModelMetadataRequest.newBuilder().setName(name).setVersion(version)
                .build()),
            () -> server.blocking().modelConfig(ModelConfigRequest.newBuilder().setName(name).setVersion(version).build()),
            () -> server.blocking().modelStatistics(ModelStatisticsRequest.newBuilder().setName(name)
                .setVersion(version).build()),
            () -> server.blocking().repositoryModelLoad(RepositoryModelLoadRequest.newBuilder().setModelName(name)
                .build()),
            () -> server.blocking().repositoryModelUnload(RepositoryModelUnloadRequest.newBuilder().setModelName(name)
                .build()));
        for (int m = 0; m < calls.size(); m++) {
          try {
            calls.get(m).run();
          } catch (StatusRuntimeException e) {
            Status status = e.getStatus();
            assertThat(CLIENT_ERRORS_AND_UNAUTHENTICATED).as("method %d for %s: %s", m, what, status)
                .contains(status.getCode());
            assertThat(status.getDescription()).as("method %d for %s", m, what).isNotBlank()
                .hasSizeLessThan(MAX_MESSAGE_CHARS);
          }
        }
      }
    }
    stillServes();
  }

  /**
   * KServe v2 REST with the binary data extension (inputs as bytes after the JSON, outputs asked for as bytes): a
   * valid request answers what gRPC answers the same request, to the byte; one whose lengths disagree (the JSON
   * header's, an input's binary_data_size, bytes left over) gets a client's status.
   */
  @Test
  void binaryRestRequestsAnswerWhatGrpcAnswers() throws Exception {
    Random random = new Random(SEED + 4);
    int sent = REQUESTS / 5;
    int compared = 0;
    for (int i = 0; i < sent; i++) {
      ModelSpec model = models.get(random.nextInt(models.size()));
      ModelInferRequest request = valid(random, model).clearOutputs().build();
      JsonObject header = new JsonObject();
      JsonArray inputs = new JsonArray();
      ByteArrayOutputStream binary = new ByteArrayOutputStream();
      List<Integer> sizes = new ArrayList<>();
      for (int k = 0; k < request.getInputsCount(); k++) {
        InferInputTensor t = request.getInputs(k);
        byte[] raw = request.getRawInputContents(k).toByteArray();
        sizes.add(raw.length);
        binary.write(raw, 0, raw.length);
        inputs.add(jsonInput(t));
      }
      header.add("inputs", inputs);
      JsonArray outputs = new JsonArray();
      for (String name : model.outputs()) {
        JsonObject out = new JsonObject();
        out.addProperty("name", name);
        JsonObject params = new JsonObject();
        params.addProperty("binary_data", true);
        out.add("parameters", params);
        outputs.add(out);
      }
      header.add("outputs", outputs);
      List<String> mistakes = new ArrayList<>();
      int sizeMistake = random.nextInt(6) == 0 && !sizes.isEmpty() ? random.nextInt(sizes.size()) : -1;
      for (int k = 0; k < sizes.size(); k++) {
        JsonObject params = new JsonObject();
        int delta = k == sizeMistake ? any(random, List.of(-1, 1, -4, 8)) : 0;
        params.addProperty("binary_data_size", sizes.get(k) + delta);
        inputs.get(k).getAsJsonObject().add("parameters", params);
      }
      if (sizeMistake >= 0) {
        mistakes.add("an input's binary_data_size off");
      }
      byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
      String headerLength = Integer.toString(json.length);
      if (random.nextInt(8) == 0) {
        mistakes.add("header length off");
        headerLength = any(random, List.of(Integer.toString(json.length - 1), Integer.toString(json.length + 3), "-2",
            "x", Integer.toString(Integer.MAX_VALUE), ""));
      }
      if (random.nextInt(10) == 0) {
        mistakes.add("bytes left over");
        byte[] extra = new byte[1 + random.nextInt(8)];
        binary.write(extra, 0, extra.length);
      }
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      body.write(json, 0, json.length);
      binary.writeTo(body);
      HttpResponse<byte[]> response = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
          + server.server().httpPort().orElseThrow() + "/v2/models/" + model.name() + "/infer"))
          .timeout(Duration.ofSeconds(20)).header("Content-Type", "application/octet-stream")
          .header("Inference-Header-Content-Length", headerLength)
          .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())).build(), HttpResponse.BodyHandlers.ofByteArray());
      int jsonBytes = response.headers().firstValue("Inference-Header-Content-Length").map(Integer::parseInt)
          .orElse(response.body().length);
      String answer = new String(response.body(), 0, jsonBytes, StandardCharsets.UTF_8);
      String what = "binary REST request " + i + " of seed " + (SEED + 4) + " to " + model.name() + " with "
          + mistakes + ", header length " + headerLength + ": " + header + "\nanswered " + response.statusCode() + ": "
          + answer;
      if (!mistakes.isEmpty()) {
        assertThat(CLIENT_HTTP_ERRORS).as(what).contains(response.statusCode());
        assertThat(json(answer, what).get("error").getAsString()).as(what).isNotBlank();
        continue;
      }
      assertThat(response.statusCode()).as(what).isEqualTo(200);
      ModelInferResponse grpc = server.blocking().modelInfer(request);
      JsonArray got = json(answer, what).getAsJsonArray("outputs");
      assertThat(got).as(what).hasSize(grpc.getOutputsCount());
      int at = jsonBytes;
      for (int k = 0; k < got.size(); k++) {
        JsonObject out = got.get(k).getAsJsonObject();
        int size = out.getAsJsonObject("parameters").get("binary_data_size").getAsInt();
        byte[] bytes = Arrays.copyOfRange(response.body(), at, at + size);
        at += size;
        int index = grpc.getOutputsList().stream().map(ModelInferResponse.InferOutputTensor::getName).toList()
            .indexOf(out.get("name").getAsString());
        assertThat(bytes).as("output %s of %s", out.get("name"), what)
            .isEqualTo(grpc.getRawOutputContents(index).toByteArray());
      }
      assertThat(at).as(what).isEqualTo(response.body().length);
      compared++;
    }
    assertThat(compared).as("valid binary requests compared with gRPC").isGreaterThan(sent / 2);
    stillServes();
  }

  /**
   * The body as a JSON object. Gson reads leniently, as Python's json module does: NaN and infinities, which an output
   * may hold and Junction writes as Triton does, are read.
   */
  private static JsonObject json(String body, String what) {
    try {
      return JsonParser.parseString(body).getAsJsonObject();
    } catch (RuntimeException e) {
      throw new AssertionError("not a JSON object: " + e.getMessage() + "\n" + what, e);
    }
  }

  private static String encode(String name) {
    return URLEncoder.encode(name, StandardCharsets.UTF_8).replace("+", "%20");
  }

  /** A valid call to the demo MLP answers as it did before any of the mistakes. */
  private static void stillServes() {
    ModelInferRequest valid = valid(new Random(7), models.get(0)).build();
    ModelInferResponse first = server.blocking().modelInfer(valid);
    ModelInferResponse again = server.blocking().modelInfer(valid);
    assertThat(again.getRawOutputContentsList()).isEqualTo(first.getRawOutputContentsList()).hasSize(1);
    assertThat(again.getRawOutputContents(0).size()).isEqualTo(first.getOutputs(0).getShape(0) * 4 * 4);
  }

  private static List<Case> cases(Random random, int n) {
    List<Mistake> mistakes = mistakes();
    List<Case> cases = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      ModelInferRequest.Builder b = valid(random, models.get(random.nextInt(models.size())));
      b.setId("fuzz-" + i);
      List<String> made = new ArrayList<>();
      // A quarter stay valid, so that both answers are exercised with the same models.
      int count = random.nextInt(4) == 0 ? 0 : 1 + random.nextInt(3);
      for (int m = 0; m < count; m++) {
        Mistake mistake = mistakes.get(random.nextInt(mistakes.size()));
        mistake.apply().accept(random, b);
        made.add(mistake.name());
      }
      cases.add(new Case(i, made, b.build()));
    }
    return cases;
  }

  private static ModelInferRequest.Builder valid(Random random, ModelSpec model) {
    ModelInferRequest.Builder b = ModelInferRequest.newBuilder().setModelName(model.name());
    // One batch size for all inputs; the image classifier's rows are 110 KB, so it gets one.
    long rows = model.name().equals("image_classifier") ? 1 : 1 + random.nextInt(3);
    long free = 1 + random.nextInt(4);
    for (InputSpec in : model.inputs()) {
      InferInputTensor.Builder t = InferInputTensor.newBuilder().setName(in.name()).setDatatype(in.datatype());
      long elements = 1;
      for (int d = 0; d < in.shape().length; d++) {
        long dim = in.shape()[d] >= 0 ? in.shape()[d] : d == 0 ? rows : free;
        t.addShape(dim);
        elements *= dim;
      }
      b.addInputs(t);
      b.addRawInputContents(contents(random, in.datatype(), (int) elements));
    }
    if (random.nextBoolean()) {
      b.addOutputs(InferRequestedOutputTensor.newBuilder().setName(model.outputs().get(0)));
    }
    return b;
  }

  private static ByteString contents(Random random, String datatype, int elements) {
    if (datatype.equals("BYTES")) {
      String[] texts = new String[elements];
      for (int i = 0; i < elements; i++) {
        texts[i] = "e" + random.nextInt(1000);
      }
      return InferRequests.bytesRaw(texts);
    }
    byte[] data = new byte[elements * ELEMENT_BYTES.get(datatype)];
    if (datatype.equals("BOOL")) {
      for (int i = 0; i < data.length; i++) {
        data[i] = (byte) random.nextInt(2);
      }
    } else {
      random.nextBytes(data);
    }
    return ByteString.copyFrom(data);
  }

  private static <T> T any(Random random, List<T> values) {
    return values.get(random.nextInt(values.size()));
  }

  private static int anyInput(Random random, ModelInferRequest.Builder b) {
    return b.getInputsCount() == 0 ? -1 : random.nextInt(b.getInputsCount());
  }

  private static List<Mistake> mistakes() {
    List<Mistake> list = new ArrayList<>();
    list.add(new Mistake("odd model name", (r, b) -> b.setModelName(any(r, ODD_NAMES))));
    list.add(new Mistake("another model's name", (r, b) -> b.setModelName(any(r, models).name())));
    list.add(new Mistake("odd version", (r, b) -> b.setModelVersion(any(r, ODD_VERSIONS))));
    list.add(new Mistake("odd datatype", (r, b) -> {
      int i = anyInput(r, b);
      if (i >= 0) {
        b.getInputsBuilder(i).setDatatype(any(r, DATATYPES));
      }
    }));
    list.add(new Mistake("odd dimension", (r, b) -> {
      int i = anyInput(r, b);
      if (i >= 0 && b.getInputs(i).getShapeCount() > 0) {
        InferInputTensor.Builder t = b.getInputsBuilder(i);
        t.setShape(r.nextInt(t.getShapeCount()), any(r, List.of(0L, -1L, -5L, 2L, 7L, 1L << 20, 1L << 40,
            Long.MAX_VALUE, Long.MIN_VALUE, (long) Integer.MAX_VALUE + 1)));
      }
    }));
    list.add(new Mistake("dimension added or taken away", (r, b) -> {
      int i = anyInput(r, b);
      if (i >= 0) {
        InferInputTensor.Builder t = b.getInputsBuilder(i);
        List<Long> shape = new ArrayList<>(t.getShapeList());
        if (r.nextBoolean() || shape.isEmpty()) {
          shape.add(r.nextInt(shape.size() + 1), 1L + r.nextInt(3));
        } else {
          shape.remove(r.nextInt(shape.size()));
        }
        t.clearShape().addAllShape(shape);
      }
    }));
    list.add(new Mistake("raw contents cut or padded", (r, b) -> {
      int i = r.nextInt(Math.max(1, b.getRawInputContentsCount()));
      if (i < b.getRawInputContentsCount()) {
        ByteString raw = b.getRawInputContents(i);
        int delta = any(r, List.of(-1, 1, -4, 4, 3, -raw.size()));
        b.setRawInputContents(i, delta < 0 ? raw.substring(0, Math.max(0, raw.size() + delta))
            : raw.concat(ByteString.copyFrom(new byte[delta])));
      }
    }));
    list.add(new Mistake("raw contents taken away", (r, b) -> b.clearRawInputContents()));
    list.add(new Mistake("extra raw contents", (r, b) -> b.addRawInputContents(ByteString.copyFrom(new byte[16]))));
    list.add(new Mistake("typed contents", (r, b) -> {
      int i = anyInput(r, b);
      if (i < 0) {
        return;
      }
      if (r.nextInt(3) > 0) {
        b.clearRawInputContents(); // typed for one input, raw for none: valid when the rest is
      }
      long elements = b.getInputs(i).getShapeList().stream().reduce(1L, (x, y) -> x * y);
      int count = (int) Math.max(0, Math.min(4096, elements + any(r, List.of(0L, 0L, 0L, 1L, -1L))));
      InferTensorContents.Builder c = InferTensorContents.newBuilder();
      switch (r.nextInt(7)) {
        case 0 -> { for (int k = 0; k < count; k++) { c.addFp32Contents(r.nextFloat()); } }
        case 1 -> { for (int k = 0; k < count; k++) { c.addInt64Contents(r.nextLong()); } }
        case 2 -> { for (int k = 0; k < count; k++) { c.addIntContents(r.nextInt()); } }
        case 3 -> { for (int k = 0; k < count; k++) { c.addBoolContents(r.nextBoolean()); } }
        case 4 -> { for (int k = 0; k < count; k++) { c.addFp64Contents(r.nextDouble()); } }
        case 5 -> { for (int k = 0; k < count; k++) { c.addUintContents(r.nextInt()); } }
        default -> { for (int k = 0; k < count; k++) { c.addBytesContents(ByteString.copyFromUtf8("t" + k)); } }
      }
      b.getInputsBuilder(i).setContents(c);
    }));
    list.add(new Mistake("input taken away", (r, b) -> {
      int i = anyInput(r, b);
      if (i >= 0) {
        b.removeInputs(i);
        if (i < b.getRawInputContentsCount() && r.nextBoolean()) {
          List<ByteString> raw = new ArrayList<>(b.getRawInputContentsList());
          raw.remove(i);
          b.clearRawInputContents().addAllRawInputContents(raw);
        }
      }
    }));
    list.add(new Mistake("input twice", (r, b) -> {
      int i = anyInput(r, b);
      if (i >= 0) {
        b.addInputs(b.getInputs(i));
        if (i < b.getRawInputContentsCount()) {
          b.addRawInputContents(b.getRawInputContents(i));
        }
      }
    }));
    list.add(new Mistake("input renamed", (r, b) -> {
      int i = anyInput(r, b);
      if (i >= 0) {
        b.getInputsBuilder(i).setName(any(r, List.of("", "nope", "x", "A", "IN", "INPUT0", "image", "y")));
      }
    }));
    list.add(new Mistake("odd requested output", (r, b) -> b.addOutputs(InferRequestedOutputTensor.newBuilder()
        .setName(any(r, List.of("", "nope", "y", "SUM", "OUTPUT0", "probabilities", "x"))))));
    list.add(new Mistake("odd parameter", (r, b) -> {
      InferParameter p = parameter(r);
      String key = any(r, PARAMETER_KEYS);
      switch (r.nextInt(3)) {
        case 0 -> b.putParameters(key, p);
        case 1 -> {
          int i = anyInput(r, b);
          if (i >= 0) {
            b.getInputsBuilder(i).putParameters(key, p);
          }
        }
        default -> {
          if (b.getOutputsCount() == 0) {
            b.addOutputs(InferRequestedOutputTensor.newBuilder().setName("y"));
          }
          b.getOutputsBuilder(0).putParameters(key, p);
        }
      }
    }));
    list.add(new Mistake("long or odd request id", (r, b) -> b.setId(any(r, List.of("", "\u0000", "id".repeat(5000),
        "\uD83D\uDE00")))));
    return list;
  }

  private static InferParameter parameter(Random r) {
    return switch (r.nextInt(5)) {
      case 0 -> InferParameter.newBuilder().setInt64Param(any(r, List.of(-1L, 0L, 1L, 3L, 1L << 31, Long.MAX_VALUE,
          Long.MIN_VALUE))).build();
      case 1 -> InferParameter.newBuilder().setStringParam(any(r, List.of("", "1", "-1", "abc", "x".repeat(3000))))
          .build();
      case 2 -> InferParameter.newBuilder().setBoolParam(r.nextBoolean()).build();
      case 3 -> InferParameter.newBuilder().setDoubleParam(any(r, List.of(-1.5, 0.0, 1e300, Double.NaN))).build();
      default -> InferParameter.newBuilder().setUint64Param(any(r, List.of(0L, 5L, -1L))).build();
    };
  }

  private static void checkSuccess(Case c, ModelInferResponse response) {
    assertThat(response.getOutputsCount()).as(c.describe()).isPositive();
    assertThat(response.getId()).as(c.describe()).isEqualTo(c.request().getId());
    boolean raw = response.getRawOutputContentsCount() > 0;
    if (raw) {
      assertThat(response.getRawOutputContentsCount()).as(c.describe()).isEqualTo(response.getOutputsCount());
    }
    for (int i = 0; i < response.getOutputsCount(); i++) {
      ModelInferResponse.InferOutputTensor out = response.getOutputs(i);
      long elements = 1;
      for (long d : out.getShapeList()) {
        assertThat(d).as(c.describe()).isNotNegative();
        elements *= d;
      }
      Integer size = ELEMENT_BYTES.get(out.getDatatype());
      if (raw && size != null) {
        assertThat((long) response.getRawOutputContents(i).size()).as("output %s of %s", out.getName(), c.describe())
            .isEqualTo(elements * size);
      }
    }
  }

  private static void checkClientStatus(Case c, Status status) {
    if (!CLIENT_ERRORS.contains(status.getCode())) {
      fail("%s\nanswered %s: %s", c.describe(), status.getCode(), status.getDescription(), status.getCause());
    }
    assertThat(status.getDescription()).as("%s\nanswered %s", c.describe(), status.getCode()).isNotBlank()
        .hasSizeLessThan(MAX_MESSAGE_CHARS);
  }

  /** An input's name, shape and datatype as REST spells them. */
  private static JsonObject jsonInput(InferInputTensor t) {
    JsonObject in = new JsonObject();
    in.addProperty("name", t.getName());
    JsonArray shape = new JsonArray();
    t.getShapeList().forEach(shape::add);
    in.add("shape", shape);
    in.addProperty("datatype", t.getDatatype());
    return in;
  }

  private static JsonObject validJson(Random random, ModelSpec model) {
    ModelInferRequest valid = valid(random, model).build();
    JsonObject body = new JsonObject();
    JsonArray inputs = new JsonArray();
    for (int i = 0; i < valid.getInputsCount(); i++) {
      InferInputTensor t = valid.getInputs(i);
      JsonObject in = jsonInput(t);
      long elements = t.getShapeList().stream().reduce(1L, (x, y) -> x * y);
      JsonArray data = new JsonArray();
      for (long k = 0; k < elements; k++) {
        switch (t.getDatatype()) {
          case "BOOL" -> data.add(random.nextBoolean());
          case "BYTES" -> data.add("e" + k);
          case "FP32", "FP64", "FP16" -> data.add(random.nextFloat() * 4 - 2);
          default -> data.add(random.nextInt(100));
        }
      }
      in.add("data", data);
      inputs.add(in);
    }
    body.add("inputs", inputs);
    if (random.nextBoolean()) {
      body.addProperty("id", "rest-" + random.nextInt(1000));
    }
    return body;
  }

  /** Makes one mistake in a JSON request body; returns its name. */
  private static String jsonMistake(Random r, JsonObject body) {
    JsonArray inputs = body.has("inputs") && body.get("inputs").isJsonArray() ? body.getAsJsonArray("inputs") : null;
    JsonObject input = inputs != null && !inputs.isEmpty() && inputs.get(0).isJsonObject()
        ? inputs.get(r.nextInt(inputs.size())).getAsJsonObject() : null;
    List<JsonElement> odd = List.of(new JsonPrimitive("x"), new JsonPrimitive(-1), new JsonPrimitive(1e308),
        new JsonPrimitive(true), new JsonArray(), new JsonObject(), JsonNull.INSTANCE,
        new JsonPrimitive(Long.MAX_VALUE), new JsonPrimitive("9".repeat(400)));
    switch (r.nextInt(9)) {
      case 0 -> {
        body.remove("inputs");
        return "inputs taken away";
      }
      case 1 -> {
        body.add("inputs", any(r, odd));
        return "inputs of another kind";
      }
      case 2 -> {
        if (input != null) {
          String key = any(r, List.of("name", "shape", "datatype", "data", "parameters"));
          input.add(key, any(r, odd));
          return "input's " + key + " of another kind";
        }
        return "none";
      }
      case 3 -> {
        if (input != null) {
          String key = any(r, List.of("name", "shape", "datatype", "data"));
          input.remove(key);
          return "input's " + key + " taken away";
        }
        return "none";
      }
      case 4 -> {
        if (input != null && input.get("data") instanceof JsonArray data && !data.isEmpty()) {
          data.set(r.nextInt(data.size()), any(r, odd));
          return "a datum of another kind";
        }
        return "none";
      }
      case 5 -> {
        if (input != null && input.get("shape") instanceof JsonArray shape && !shape.isEmpty()) {
          shape.set(r.nextInt(shape.size()), new JsonPrimitive(any(r, List.of(0L, -1L, 1L << 40, 7L))));
          return "odd dimension";
        }
        return "none";
      }
      case 6 -> {
        if (input != null) {
          input.addProperty("datatype", any(r, DATATYPES));
          return "odd datatype";
        }
        return "none";
      }
      case 7 -> {
        JsonObject params = new JsonObject();
        params.add(any(r, PARAMETER_KEYS), any(r, odd));
        body.add("parameters", r.nextBoolean() ? params : any(r, odd));
        return "odd parameters";
      }
      default -> {
        JsonArray outputs = new JsonArray();
        JsonObject out = new JsonObject();
        out.add("name", r.nextBoolean() ? new JsonPrimitive("nope") : any(r, odd));
        if (r.nextBoolean()) {
          JsonObject params = new JsonObject();
          params.add(any(r, PARAMETER_KEYS), any(r, odd));
          out.add("parameters", params);
        }
        outputs.add(out);
        body.add("outputs", r.nextBoolean() ? outputs : any(r, odd));
        return "odd requested outputs";
      }
    }
  }
}
