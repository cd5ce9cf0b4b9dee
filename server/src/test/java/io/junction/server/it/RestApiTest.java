package io.junction.server.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.junction.proto.inference.ModelConfigRequest;
import io.junction.server.TestServer;
import io.junction.server.config.ModelControl;
import io.junction.server.config.ServerConfig;
import io.junction.testkit.DemoRepository;
import io.junction.testkit.Mlp;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The KServe v2 REST API over real HTTP, against the demo repository, answering as gRPC does. */
class RestApiTest {
  @TempDir static Path dir;
  private static TestServer server;
  private static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start(DemoRepository.write(dir.resolve("repo")));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void serverAndModelMetadataReadinessAndConfig() throws Exception {
    JsonObject meta = json(get("/v2"), 200);
    assertThat(meta.get("name").getAsString()).isEqualTo("junction");
    assertThat(meta.getAsJsonArray("extensions").toString()).contains("model_repository");

    JsonObject mlp = json(get("/v2/models/mlp"), 200);
    assertThat(mlp.get("name").getAsString()).isEqualTo("mlp");
    assertThat(mlp.getAsJsonArray("versions").toString()).contains("\"1\"", "\"2\"");
    JsonObject x = mlp.getAsJsonArray("inputs").get(0).getAsJsonObject();
    assertThat(x.get("name").getAsString()).isEqualTo("x");
    assertThat(x.get("datatype").getAsString()).isEqualTo("FP32");
    assertThat(x.get("shape").toString()).as("dimensions are JSON numbers").isEqualTo("[-1,8]");

    assertThat(get("/v2/models/mlp/ready").statusCode()).isEqualTo(200);
    assertThat(get("/v2/models/mlp/versions/2/ready").statusCode()).isEqualTo(200);
    assertThat(get("/v2/models/nope/ready").statusCode()).isEqualTo(400);
    JsonObject config = json(get("/v2/models/add_sub/config"), 200);
    assertThat(config.get("max_batch_size").getAsInt()).isEqualTo(16);
    assertThat(config.getAsJsonArray("input").get(0).getAsJsonObject().get("dims").toString()).isEqualTo("[3]");
    // As Triton writes a config: fields at their defaults too, which clients read without checking; unset
    // messages stay out (a client tells whether a model batches dynamically by the key's presence).
    JsonObject echo = json(get("/v2/models/text_echo/config"), 200);
    JsonObject text = echo.getAsJsonArray("input").get(0).getAsJsonObject();
    assertThat(text.get("format").getAsString()).isEqualTo("FORMAT_NONE");
    assertThat(text.get("dims").toString()).as("a batched vector's row is a scalar").isEqualTo("[]");
    assertThat(text.get("optional").getAsBoolean()).isFalse();
    assertThat(echo.get("model_warmup").toString()).isEqualTo("[]");
    assertThat(echo.has("dynamic_batching")).isFalse();
    assertThat(get("/v2/health/ready").statusCode()).isEqualTo(200);
  }

  @Test
  void jsonInferenceAnswersWhatTheModelComputes() throws Exception {
    String body = """
        {"id": "r1", "inputs": [
          {"name": "A", "datatype": "FP32", "shape": [2, 3], "data": [[1, 2, 3], [4, 5, 6]]},
          {"name": "B", "datatype": "FP32", "shape": [2, 3], "data": [0.5, 0.5, 0.5, 1, 1, 1]}
        ], "outputs": [{"name": "DIFF"}]}
        """;
    JsonObject answer = json(post("/v2/models/add_sub/infer", body), 200);
    assertThat(answer.get("model_name").getAsString()).isEqualTo("add_sub");
    assertThat(answer.get("model_version").getAsString()).isEqualTo("1");
    assertThat(answer.get("id").getAsString()).isEqualTo("r1");
    JsonArray outputs = answer.getAsJsonArray("outputs");
    assertThat(outputs).hasSize(1);
    JsonObject diff = outputs.get(0).getAsJsonObject();
    assertThat(diff.get("name").getAsString()).isEqualTo("DIFF");
    assertThat(diff.get("shape").toString()).isEqualTo("[2,3]");
    assertThat(diff.get("data").toString()).isEqualTo("[0.5,1.5,2.5,3.0,4.0,5.0]");

    float[] in = {0.5f, -1, 2, 0.25f, 3, -4, 1, 0};
    JsonObject y = json(post("/v2/models/mlp/versions/2/infer",
        "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1,8],\"data\":" + Arrays.toString(in) + "}]}"), 200)
        .getAsJsonArray("outputs").get(0).getAsJsonObject();
    float[] expected = DemoRepository.mlp(2).expected(in, 1);
    JsonArray data = y.getAsJsonArray("data");
    for (int i = 0; i < expected.length; i++) {
      assertThat(data.get(i).getAsFloat()).isCloseTo(expected[i], within(1e-5f));
    }

    JsonObject echo = json(post("/v2/models/text_echo/infer",
        "{\"inputs\":[{\"name\":\"" + textInput() + "\",\"datatype\":\"BYTES\",\"shape\":[2],\"data\":[\"héllo\",\"\"]}]}"), 200);
    assertThat(echo.getAsJsonArray("outputs").get(0).getAsJsonObject().get("data").toString()).isEqualTo("[\"héllo\",\"\"]");
  }

  @Test
  void binaryTensorDataBothWays() throws Exception {
    String header = "{\"inputs\":[{\"name\":\"A\",\"datatype\":\"FP32\",\"shape\":[1,3],\"parameters\":{\"binary_data_size\":12}},"
        + "{\"name\":\"B\",\"datatype\":\"FP32\",\"shape\":[1,3],\"data\":[1,1,1]}],"
        + "\"outputs\":[{\"name\":\"SUM\",\"parameters\":{\"binary_data\":true}},{\"name\":\"DIFF\"}]}";
    byte[] json = header.getBytes(StandardCharsets.UTF_8);
    ByteBuffer body = ByteBuffer.allocate(json.length + 12).order(ByteOrder.LITTLE_ENDIAN);
    body.put(json).putFloat(1.5f).putFloat(2.5f).putFloat(-3f);
    HttpResponse<byte[]> response = http.send(HttpRequest.newBuilder(uri("/v2/models/add_sub/infer"))
        .header("Inference-Header-Content-Length", Integer.toString(json.length))
        .header("Content-Type", "application/octet-stream")
        .POST(HttpRequest.BodyPublishers.ofByteArray(body.array())).build(), HttpResponse.BodyHandlers.ofByteArray());
    assertThat(response.statusCode()).as(new String(response.body(), StandardCharsets.UTF_8)).isEqualTo(200);
    int jsonLength = Integer.parseInt(response.headers().firstValue("Inference-Header-Content-Length").orElseThrow());
    JsonObject answer = JsonParser.parseString(new String(response.body(), 0, jsonLength, StandardCharsets.UTF_8))
        .getAsJsonObject();
    JsonObject sum = answer.getAsJsonArray("outputs").get(0).getAsJsonObject();
    assertThat(sum.getAsJsonObject("parameters").get("binary_data_size").getAsInt()).isEqualTo(12);
    assertThat(sum.has("data")).isFalse();
    ByteBuffer binary = ByteBuffer.wrap(response.body(), jsonLength, 12).order(ByteOrder.LITTLE_ENDIAN);
    assertThat(new float[] {binary.getFloat(), binary.getFloat(), binary.getFloat()}).containsExactly(2.5f, 3.5f, -2f);
    assertThat(answer.getAsJsonArray("outputs").get(1).getAsJsonObject().get("data").toString()).isEqualTo("[0.5,1.5,-4.0]");
  }

  @Test
  void notANumberAndInfinitiesGoBothWaysBareAsTritonWritesThem() throws Exception {
    HttpResponse<String> answer = post("/v2/models/add_sub/infer", """
        {"inputs": [
          {"name": "A", "datatype": "FP32", "shape": [1, 3], "data": [NaN, Infinity, -Infinity]},
          {"name": "B", "datatype": "FP32", "shape": [1, 3], "data": [1, 1, 1]}
        ], "outputs": [{"name": "SUM"}]}
        """);
    assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
    assertThat(answer.body()).contains("\"data\":[NaN,Infinity,-Infinity]");

    // The parser's advice to its own user (which feature to enable) is not the client's to follow.
    HttpResponse<String> comment = post("/v2/models/mlp/infer", "{\"inputs\": /* none */ []}");
    assertThat(comment.statusCode()).isEqualTo(400);
    assertThat(error(comment)).contains("Unexpected character ('/'", "at line 1 column")
        .doesNotContain("Feature", "ALLOW_COMMENTS", "enable");
  }

  @Test
  void bodiesTravelCompressedAsTritonsClientsSendAndAcceptThem() throws Exception {
    String request = "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1,8],\"data\":[1,2,3,4,5,6,7,8]}]}";
    String plain = post("/v2/models/mlp/versions/2/infer", request).body();
    assertThat(plain).contains("\"outputs\"");
    for (String encoding : new String[] {"gzip", "deflate"}) {
      HttpResponse<String> inflated = postBytes("/v2/models/mlp/versions/2/infer", compress(encoding,
          request.getBytes(StandardCharsets.UTF_8)), "Content-Encoding", encoding);
      assertThat(inflated.statusCode()).as(encoding + ": " + inflated.body()).isEqualTo(200);
      assertThat(inflated.body()).as(encoding).isEqualTo(plain);
    }
    HttpResponse<String> brotli = postBytes("/v2/models/mlp/infer", request.getBytes(StandardCharsets.UTF_8),
        "Content-Encoding", "br");
    assertThat(brotli.statusCode()).isEqualTo(415);
    assertThat(brotli.body()).contains("Content-Encoding br is not supported", "gzip");

    // A body that does not inflate as its Content-Encoding says is the client's mistake, answered before closing.
    for (String encoding : new String[] {"gzip", "deflate"}) {
      byte[] broken = ("this is not " + encoding + " data, whatever the header says").getBytes(StandardCharsets.UTF_8);
      HttpResponse<String> notInflatable = postBytes("/v2/models/mlp/infer", broken, "Content-Encoding", encoding);
      assertThat(notInflatable.statusCode()).as(encoding).isEqualTo(400);
      assertThat(error(notInflatable)).as(encoding).contains("does not inflate as its Content-Encoding says");
    }
    // A body that is not one whole stream: cut short (even by just its checksum) or going on after its end.
    byte[] gzip = compress("gzip", request.getBytes(StandardCharsets.UTF_8));
    byte[] deflate = compress("deflate", request.getBytes(StandardCharsets.UTF_8));
    Map<String, byte[]> cutShort = Map.of(
        "gzip without its checksum and length", Arrays.copyOf(gzip, gzip.length - 8),
        "gzip cut mid-stream", Arrays.copyOf(gzip, gzip.length / 2),
        "deflate without its checksum", Arrays.copyOf(deflate, deflate.length - 4));
    for (Map.Entry<String, byte[]> body : cutShort.entrySet()) {
      String encoding = body.getKey().substring(0, body.getKey().indexOf(' '));
      HttpResponse<String> cut = postBytes("/v2/models/mlp/infer", body.getValue(), "Content-Encoding", encoding);
      assertThat(cut.statusCode()).as(body.getKey()).isEqualTo(400);
      assertThat(error(cut)).as(body.getKey()).contains("does not inflate as its Content-Encoding says",
          "the body ends before its " + encoding + " stream does");
    }
    byte[] twoMembers = Arrays.copyOf(gzip, gzip.length * 2);
    System.arraycopy(gzip, 0, twoMembers, gzip.length, gzip.length);
    HttpResponse<String> goesOn = postBytes("/v2/models/mlp/infer", twoMembers, "Content-Encoding", "gzip");
    assertThat(goesOn.statusCode()).isEqualTo(400);
    assertThat(error(goesOn)).contains("the body goes on for " + gzip.length + " bytes after the end of its gzip stream");
    HttpResponse<String> snappy = postBytes("/v2/models/mlp/infer", request.getBytes(StandardCharsets.UTF_8),
        "Content-Encoding", "snappy");
    assertThat(snappy.statusCode()).as("only the codings the error names are inflated").isEqualTo(415);
    HttpResponse<String> emptyGet = http.send(HttpRequest.newBuilder(uri("/v2/models/mlp/versions/2"))
        .header("Content-Encoding", "gzip").timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(emptyGet.statusCode()).as("no body, nothing to inflate: " + emptyGet.body()).isEqualTo(200);
    assertThat(post("/v2/models/mlp/versions/2/infer", request).body()).as("served after them").isEqualTo(plain);

    // A body that inflates beyond the request cap is refused like a body that is that big.
    byte[] bomb = compress("gzip", (request.substring(0, request.length() - 1) + " ".repeat(9 * 1024 * 1024) + "}")
        .getBytes(StandardCharsets.UTF_8));
    assertThat(bomb.length).isLessThan(64 * 1024);
    HttpResponse<String> inflatesTooFar = postBytes("/v2/models/mlp/infer", bomb, "Content-Encoding", "gzip");
    assertThat(inflatesTooFar.statusCode()).isEqualTo(413);
    assertThat(error(inflatesTooFar)).contains("the request body is more than the 8388608", "--http-max-request-bytes");
    HttpResponse<String> tooBig = postBytes("/v2/models/mlp/infer", new byte[9_000_000], "Content-Type", "application/json");
    assertThat(tooBig.statusCode()).isEqualTo(413);
    assertThat(error(tooBig)).contains("the request body is 9000000 bytes, more than the 8388608");

    // A connection's first request says whether its answers may come compressed: a client of its own, a connection of its own.
    HttpClient compressing = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    HttpResponse<byte[]> zipped = compressing.send(HttpRequest.newBuilder(uri("/v2/models/stats")).header("Accept-Encoding", "gzip")
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofByteArray());
    assertThat(zipped.headers().firstValue("content-encoding")).contains("gzip");
    String stats = new String(new GZIPInputStream(new ByteArrayInputStream(zipped.body()))
        .readAllBytes(), StandardCharsets.UTF_8);
    assertThat(stats).startsWith("{\"model_stats\":[").hasSizeGreaterThan(1024);
    HttpResponse<String> small = compressing.send(HttpRequest.newBuilder(uri("/v2/models/mlp/versions/2/infer"))
        .header("Accept-Encoding", "gzip").POST(HttpRequest.BodyPublishers.ofString(request))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(small.headers().firstValue("content-encoding")).as("an answer too small to gain").isEmpty();
    assertThat(small.body()).isEqualTo(plain);
  }

  private static byte[] compress(String encoding, byte[] body) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (OutputStream z = encoding.equals("gzip") ? new GZIPOutputStream(out)
        : new DeflaterOutputStream(out)) {
      z.write(body);
    }
    return out.toByteArray();
  }

  private static HttpResponse<String> postBytes(String path, byte[] body, String header, String value) throws Exception {
    return http.send(HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(10)).header(header, value)
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void badRequestsGetHttpStatusesAndMessagesNamingWhatWasWrong() throws Exception {
    HttpResponse<String> shape = post("/v2/models/mlp/infer",
        "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1,8],\"data\":[1,2,3]}]}");
    assertThat(shape.statusCode()).isEqualTo(400);
    assertThat(error(shape)).contains("model 'mlp'", "'x'", "needs 8 elements", "got 3");
    HttpResponse<String> type = post("/v2/models/mlp/infer",
        "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"INT32\",\"shape\":[1,8],\"data\":[1,2,3,4,5,6,7,8]}]}");
    assertThat(type.statusCode()).isEqualTo(400);
    assertThat(error(type)).contains("'x'", "FP32", "INT32");
    HttpResponse<String> notJson = post("/v2/models/mlp/infer", "{\"inputs\": [");
    assertThat(notJson.statusCode()).isEqualTo(400);
    assertThat(error(notJson)).contains("model 'mlp'", "not a valid inference request");
    // The parser's complaint reaches the client as what, where and at which value, in the client's terms.
    HttpResponse<String> garbage = post("/v2/models/mlp/infer", "garbage");
    assertThat(garbage.statusCode()).isEqualTo(400);
    assertThat(error(garbage)).contains("model 'mlp'", "Unrecognized token 'garbage'", "at line 1 column");
    HttpResponse<String> shapeNotArray = post("/v2/models/mlp/infer",
        "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":\"1,8\",\"data\":[1]}]}");
    assertThat(shapeNotArray.statusCode()).isEqualTo(400);
    assertThat(error(shapeNotArray)).contains("shape must be an array of integers, got 1,8", "(/inputs/0/shape)");
    HttpResponse<String> nullElement = post("/v2/models/mlp/infer",
        "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1,8],\"data\":[[1,2,3,4],[5,6,7,null]]}]}");
    assertThat(nullElement.statusCode()).isEqualTo(400);
    assertThat(error(nullElement)).contains("data holds null", "(/inputs/0/data/1/3)");
    HttpResponse<String> cutShort = post("/v2/models/mlp/infer", "{\"inputs\":[{\"name\":\"x\"");
    assertThat(cutShort.statusCode()).isEqualTo(400);
    assertThat(error(cutShort)).contains("end-of-input").doesNotContain("Source", "REDACTED");
    HttpResponse<String> unknown = post("/v2/models/nope/infer", "{\"inputs\":[]}");
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(error(unknown)).contains("nope");
    assertThat(get("/v2/models/mlp/infer").statusCode()).isEqualTo(405);
    HttpResponse<String> noEndpoint = get("/v2/modelz/mlp");
    assertThat(noEndpoint.statusCode()).isEqualTo(404);
    assertThat(error(noEndpoint)).isEqualTo("no endpoint at GET /v2/modelz/mlp");
    HttpResponse<String> tooDeep = post("/v2/models/mlp/infer", "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\","
        + "\"shape\":[1,8],\"data\":" + "[".repeat(1000) + "]".repeat(1000) + "}]}");
    assertThat(tooDeep.statusCode()).isEqualTo(400);
    assertThat(error(tooDeep)).contains("nesting depth", "exceeds the maximum allowed (64)")
        .doesNotContain("StreamReadConstraints");
    // Path segments: a malformed escape is the client's mistake; '+' is itself (no query-string space).
    for (String path : List.of("/v2/models/%zz/ready", "/v2/models/mlp/versions/1%/ready")) {
      String answer = rawGet(path);
      assertThat(answer).as(path).startsWith("HTTP/1.1 400").contains("is not valid percent-encoding");
    }
    HttpResponse<String> plus = get("/v2/models/a+b");
    assertThat(plus.statusCode()).isEqualTo(404);
    assertThat(error(plus)).contains("model 'a+b'");
    HttpResponse<String> lying = post("/v2/models/mlp/infer",
        "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1,8],\"parameters\":{\"binary_data_size\":1000000}}]}");
    assertThat(lying.statusCode()).isEqualTo(400);
    assertThat(error(lying)).contains("claims 1000000 bytes of binary data");
  }

  @Test
  void statisticsAndTheRepositoryIndex() throws Exception {
    post("/v2/models/add_sub/infer", "{\"inputs\":[{\"name\":\"A\",\"datatype\":\"FP32\",\"shape\":[1,3],\"data\":[1,2,3]},"
        + "{\"name\":\"B\",\"datatype\":\"FP32\",\"shape\":[1,3],\"data\":[1,2,3]}]}");
    JsonObject stats = json(get("/v2/models/add_sub/stats"), 200).getAsJsonArray("model_stats").get(0).getAsJsonObject();
    assertThat(stats.get("name").getAsString()).isEqualTo("add_sub");
    assertThat(stats.get("inference_count").getAsLong()).as("a JSON number").isPositive();
    // A version nothing called has every count, at 0, as Triton answers.
    JsonObject idle = json(get("/v2/models/mlp/versions/1/stats"), 200).getAsJsonArray("model_stats").get(0)
        .getAsJsonObject();
    assertThat(idle.get("inference_count").getAsLong()).isZero();
    assertThat(idle.get("last_inference").getAsLong()).isZero();
    assertThat(idle.getAsJsonObject("inference_stats").get("success").toString()).isEqualTo("{\"count\":0,\"ns\":0}");
    assertThat(idle.get("batch_stats").toString()).isEqualTo("[]");
    JsonElement index = JsonParser.parseString(post("/v2/repository/index", "{}").body());
    assertThat(index.toString()).contains("\"name\":\"mlp\"", "\"state\":\"READY\"");
    assertThat(JsonParser.parseString(post("/v2/repository/index", "{\"ready\": true}").body()).toString())
        .contains("\"name\":\"mlp\"");
    for (String body : List.of("x", "[]", "{\"ready\": \"yes\"}", "{\"ready\": 1}")) {
      HttpResponse<String> bad = post("/v2/repository/index", body);
      assertThat(bad.statusCode()).as(body).isEqualTo(400);
      assertThat(error(bad)).as(body).contains("repository index request");
    }
    HttpResponse<String> load = post("/v2/repository/models/mlp/load", "{}");
    assertThat(load.statusCode()).as("outside explicit mode the repository API refuses").isEqualTo(400);
  }

  @Test
  void loadAndUnloadNeedTheAdminTokenInExplicitMode() throws Exception {
    Path repo = DemoRepository.write(dir.resolve("explicit"));
    try (TestServer explicit = TestServer.start(ServerConfig.loopback(repo)
        .withControl(ModelControl.explicit(Set.of("*"))).withAdminToken("rest-admin-token-0123456789"))) {
      int port = explicit.server().httpPort().orElseThrow();
      HttpResponse<String> refused = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
          + "/v2/repository/models/mlp/unload")).POST(HttpRequest.BodyPublishers.ofString("{}")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(refused.statusCode()).isEqualTo(401);
      assertThat(error(refused)).contains("admin credential");
      HttpResponse<String> done = adminPost(port, "mlp/unload", "{}");
      assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
      HttpResponse<String> configured = adminPost(port, "mlp/load",
          "{\"parameters\": {\"config\": \"{\\\"max_batch_size\\\": 3}\"}}");
      assertThat(configured.statusCode()).as(configured.body()).isEqualTo(200);
      assertThat(explicit.blocking().modelConfig(ModelConfigRequest.newBuilder().setName("mlp").build()).getConfig()
          .getMaxBatchSize()).isEqualTo(3);
      HttpResponse<String> notText = adminPost(port, "mlp/load", "{\"parameters\": {\"config\": 5}}");
      assertThat(notText.statusCode()).isEqualTo(400);
      assertThat(error(notText)).contains("'config' must be a string holding the model config as JSON, got 5");
      HttpResponse<String> file = adminPost(port, "mlp/load", "{\"parameters\": {\"file:1/model.onnx\": \"AAAA\"}}");
      assertThat(file.statusCode()).isEqualTo(400);
      assertThat(error(file)).contains("would write a file the client names");
      HttpResponse<String> unload = adminPost(port, "mlp/unload", "{}");
      assertThat(unload.statusCode()).isEqualTo(200);
      assertThat(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v2/models/mlp/ready"))
          .build(), HttpResponse.BodyHandlers.discarding()).statusCode()).isEqualTo(400);
    }
  }

  /** A POST to {@code /v2/repository/models/<path>} with the explicit-mode test's admin token. */
  private static HttpResponse<String> adminPost(int port, String path, String body) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v2/repository/models/" + path))
        .header("Authorization", "Bearer rest-admin-token-0123456789").POST(HttpRequest.BodyPublishers.ofString(body))
        .build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String textInput() throws Exception {
    return json(get("/v2/models/text_echo"), 200).getAsJsonArray("inputs").get(0).getAsJsonObject().get("name").getAsString();
  }

  /** A GET of a path no URI class lets through (malformed escapes), written by hand; the whole answer as text. */
  private static String rawGet(String path) throws IOException {
    try (Socket socket = new Socket("127.0.0.1", server.server().httpPort().orElseThrow())) {
      socket.setSoTimeout(10_000);
      socket.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  private static URI uri(String path) {
    return URI.create("http://127.0.0.1:" + server.server().httpPort().orElseThrow() + path);
  }

  private static HttpResponse<String> get(String path) throws Exception {
    return http.send(HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static HttpResponse<String> post(String path, String body) throws Exception {
    return http.send(HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(10))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static JsonObject json(HttpResponse<String> response, int status) {
    assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
    return JsonParser.parseString(response.body()).getAsJsonObject();
  }

  private static String error(HttpResponse<String> response) {
    return JsonParser.parseString(response.body()).getAsJsonObject().get("error").getAsString();
  }
}
