package io.junction.server.it;

import static io.junction.server.InferRequests.input;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.junction.proto.inference.InferTensorContents;
import io.junction.proto.inference.ModelInferRequest;
import io.junction.proto.inference.ModelInferResponse;
import io.junction.proto.inference.RepositoryIndexRequest;
import io.junction.proto.inference.RepositoryIndexResponse.ModelIndex;
import io.junction.server.TestServer;
import io.junction.testkit.FixtureModels;
import io.junction.testkit.ModelRepositoryWriter;
import io.junction.testkit.OnnxType;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.function.IntToLongFunction;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Every protocol datatype through an identity model of that type, raw and typed. */
class DataTypesTest {
  /** Protocol datatype for each ONNX type an identity model is built for. */
  private static final Map<OnnxType, String> WIRE = Map.ofEntries(
      Map.entry(OnnxType.BOOL, "BOOL"), Map.entry(OnnxType.UINT8, "UINT8"), Map.entry(OnnxType.INT8, "INT8"),
      Map.entry(OnnxType.INT16, "INT16"), Map.entry(OnnxType.INT32, "INT32"), Map.entry(OnnxType.INT64, "INT64"),
      Map.entry(OnnxType.FLOAT16, "FP16"), Map.entry(OnnxType.BFLOAT16, "BF16"), Map.entry(OnnxType.FLOAT, "FP32"),
      Map.entry(OnnxType.DOUBLE, "FP64"), Map.entry(OnnxType.UINT16, "UINT16"), Map.entry(OnnxType.UINT32, "UINT32"),
      Map.entry(OnnxType.UINT64, "UINT64"));
  private static final int ROWS = 2;
  private static final int COLS = FixtureModels.IDENTITY_COLUMNS;
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @TempDir static Path repo;
  static TestServer server;

  @BeforeAll
  static void start() throws Exception {
    ModelRepositoryWriter writer = new ModelRepositoryWriter(repo);
    WIRE.keySet().forEach(t -> writer.model(modelName(t), 1, FixtureModels.identity(t)));
    server = TestServer.start(repo);
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  static String modelName(OnnxType type) {
    return "identity_" + type.name().toLowerCase();
  }

  @ParameterizedTest
  @EnumSource(value = OnnxType.class, names = {"BOOL", "UINT8", "INT8", "INT16", "INT32", "INT64", "FLOAT16",
      "BFLOAT16", "FLOAT", "DOUBLE"})
  void rawContentsRoundTrip(OnnxType type) {
    byte[] data = new byte[ROWS * COLS * type.byteSize()];
    for (int i = 0; i < data.length; i++) {
      data[i] = (byte) (type == OnnxType.BOOL ? i % 2 : i * 37 + 11);
    }
    ModelInferResponse r = server.blocking().modelInfer(ModelInferRequest.newBuilder().setModelName(modelName(type))
        .addInputs(input(FixtureModels.IDENTITY_INPUT, WIRE.get(type), ROWS, COLS))
        .addRawInputContents(ByteString.copyFrom(data)).build());
    assertThat(r.getOutputs(0).getDatatype()).isEqualTo(WIRE.get(type));
    assertThat(r.getOutputs(0).getShapeList()).containsExactly((long) ROWS, (long) COLS);
    assertThat(r.getRawOutputContents(0).toByteArray()).isEqualTo(data);
  }

  @Test
  void typedContentsOfEveryTypedDatatype() {
    int n = ROWS * COLS;
    InferTensorContents.Builder bools = InferTensorContents.newBuilder();
    InferTensorContents.Builder ints = InferTensorContents.newBuilder();
    InferTensorContents.Builder uints = InferTensorContents.newBuilder();
    InferTensorContents.Builder longs = InferTensorContents.newBuilder();
    InferTensorContents.Builder floats = InferTensorContents.newBuilder();
    InferTensorContents.Builder doubles = InferTensorContents.newBuilder();
    for (int i = 0; i < n; i++) {
      bools.addBoolContents(i % 3 == 0);
      ints.addIntContents(i * 13 - 50);
      uints.addUintContents(i * 31);
      longs.addInt64Contents(i * 1_000_000_007L - 3);
      floats.addFp32Contents(i * 0.5f - 1);
      doubles.addFp64Contents(i * 0.25 - 1e10);
    }
    assertThat(typed(OnnxType.BOOL, bools)).isEqualTo(le(n, 1, i -> i % 3 == 0 ? 1 : 0));
    assertThat(typed(OnnxType.INT8, ints)).isEqualTo(le(n, 1, i -> i * 13 - 50));
    assertThat(typed(OnnxType.INT16, ints)).isEqualTo(le(n, 2, i -> i * 13 - 50));
    assertThat(typed(OnnxType.INT32, ints)).isEqualTo(le(n, 4, i -> i * 13 - 50));
    assertThat(typed(OnnxType.UINT8, uints)).isEqualTo(le(n, 1, i -> i * 31));
    assertThat(typed(OnnxType.INT64, longs)).isEqualTo(le(n, 8, i -> i * 1_000_000_007L - 3));
    ByteBuffer f = ByteBuffer.allocate(n * 4).order(ByteOrder.LITTLE_ENDIAN);
    ByteBuffer d = ByteBuffer.allocate(n * 8).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      f.putFloat(i * 0.5f - 1);
      d.putDouble(i * 0.25 - 1e10);
    }
    assertThat(typed(OnnxType.FLOAT, floats)).isEqualTo(f.array());
    assertThat(typed(OnnxType.DOUBLE, doubles)).isEqualTo(d.array());
  }

  @Test
  void typedValueOutsideTheTypeIsRejected() {
    InferTensorContents.Builder ints = InferTensorContents.newBuilder();
    for (int i = 0; i < ROWS * COLS; i++) {
      ints.addIntContents(i == 5 ? 300 : 1);
    }
    assertThatThrownBy(() -> typed(OnnxType.INT8, ints))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
          assertThat(e.getStatus().getDescription()).contains("identity_int8", "INPUT0", "element 5 is 300", "INT8");
        });
  }

  @Test
  void halfPrecisionHasNoTypedForm() {
    assertThatThrownBy(() -> typed(OnnxType.FLOAT16, InferTensorContents.newBuilder()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
          assertThat(e.getStatus().getDescription()).contains("FP16", "raw_input_contents");
        });
  }

  @Test
  void unsignedWideTypesAreReportedAsUnloadableWithTheReason() {
    Map<String, ModelIndex> index = new HashMap<>();
    server.blocking().repositoryIndex(RepositoryIndexRequest.getDefaultInstance()).getModelsList()
        .forEach(m -> index.put(m.getName(), m));
    for (OnnxType type : new OnnxType[] {OnnxType.UINT16, OnnxType.UINT32, OnnxType.UINT64}) {
      ModelIndex entry = index.get(modelName(type));
      assertThat(entry.getState()).isEqualTo("UNAVAILABLE");
      assertThat(entry.getReason()).contains("tensor(" + type.name().toLowerCase() + ")",
          "ONNX Runtime's Java API cannot exchange");
    }
    assertThat(index.get(modelName(OnnxType.FLOAT)).getState()).isEqualTo("READY");
  }

  @Test
  void jsonIntegersKeepEveryBitOfTheirDatatypeAndOutOfRangeOnesAreRejected() throws Exception {
    String extremes = "[[-9223372036854775808, 9223372036854775807, 0, -1], [1, 2, 3, 4]]";
    HttpResponse<String> int64 = restInfer(OnnxType.INT64, extremes);
    assertThat(int64.statusCode()).as(int64.body()).isEqualTo(200);
    assertThat(int64.body()).contains("\"data\":[-9223372036854775808,9223372036854775807,0,-1,1,2,3,4]");

    HttpResponse<String> beyond = restInfer(OnnxType.INT64, "[[1, 9223372036854775808, 0, 0], [0, 0, 0, 0]]");
    assertThat(beyond.statusCode()).as(beyond.body()).isEqualTo(400);
    assertThat(beyond.body()).contains("identity_int64", "'INPUT0'", "element 1 is 9223372036854775808",
        "outside the range of INT64");
    HttpResponse<String> fraction = restInfer(OnnxType.INT32, "[[1, 2, 3.5, 4], [0, 0, 0, 0]]");
    assertThat(fraction.statusCode()).as(fraction.body()).isEqualTo(400);
    assertThat(fraction.body()).contains("identity_int32", "'INPUT0'", "element 2 is 3.5", "not an integer as INT32");
    HttpResponse<String> notANumber = restInfer(OnnxType.INT32, "[[NaN, 2, 3, 4], [0, 0, 0, 0]]");
    assertThat(notANumber.statusCode()).as(notANumber.body()).isEqualTo(400);
    assertThat(notANumber.body()).contains("element 0 is NaN, not an integer as INT32 needs");
    HttpResponse<String> byteRange = restInfer(OnnxType.UINT8, "[[1, 2, 3, 4], [0, -1, 0, 0]]");
    assertThat(byteRange.statusCode()).as(byteRange.body()).isEqualTo(400);
    assertThat(byteRange.body()).contains("element 5 is -1, outside the range of UINT8");

    // An integer wider than 64 bits is still a number a floating-point input can take.
    HttpResponse<String> fp64 = restInfer(OnnxType.DOUBLE, "[[100000000000000000000, 0.5, 0, 0], [0, 0, 0, 0]]");
    assertThat(fp64.statusCode()).as(fp64.body()).isEqualTo(200);
    assertThat(fp64.body()).contains("\"data\":[1.0E20,0.5,0.0,0.0,0.0,0.0,0.0,0.0]");
  }

  @ParameterizedTest
  @EnumSource(value = OnnxType.class, names = {"BOOL", "UINT8", "INT8", "INT16", "INT32", "INT64", "FLOAT16",
      "BFLOAT16", "FLOAT", "DOUBLE"})
  void jsonDataRoundTripsThroughEveryNumericDatatype(OnnxType type) throws Exception {
    String data = switch (type) {
      case BOOL -> "[[true,false,false,true],[false,true,true,false]]";
      case UINT8 -> "[[0,1,127,255],[3,4,5,6]]";
      case INT8 -> "[[-128,-1,0,127],[3,4,5,6]]";
      case INT16 -> "[[-32768,-1,0,32767],[3,4,5,6]]";
      case INT32 -> "[[-2147483648,-1,0,2147483647],[3,4,5,6]]";
      case INT64 -> "[[-9223372036854775808,-1,0,9223372036854775807],[3,4,5,6]]";
      default -> "[[-2.5,-1.0,0.0,0.125],[3.0,4.5,5.0,256.0]]"; // exact in FP16, BF16, FP32 and FP64 alike
    };
    HttpResponse<String> answer = restInfer(type, data);
    assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
    assertThat(answer.body()).contains("\"datatype\":\"" + WIRE.get(type) + "\"", "\"shape\":[" + ROWS + "," + COLS + "]",
        "\"data\":" + data.replace("],[", ",").replace("[[", "[").replace("]]", "]"));
  }

  /**
   * Random bit patterns of every numeric datatype (subnormal, negative zero, NaN and infinite halves and floats, the
   * top half of UINT8), sent as binary REST data and answered as JSON: each number is what an independent
   * decode of its bytes gives (unsigned types read unsigned; halves widened exactly; NaN and infinities bare).
   */
  @ParameterizedTest
  @EnumSource(value = OnnxType.class, names = {"BOOL", "UINT8", "INT8", "INT16", "INT32", "INT64", "FLOAT16",
      "BFLOAT16", "FLOAT", "DOUBLE"})
  void randomBitPatternsComeBackAsTheNumbersTheyAre(OnnxType type) throws Exception {
    java.util.Random random = new java.util.Random(type.ordinal());
    for (int round = 0; round < 20; round++) {
      byte[] raw = new byte[ROWS * COLS * type.byteSize()];
      random.nextBytes(raw);
      if (type == OnnxType.BOOL) {
        for (int i = 0; i < raw.length; i++) {
          raw[i] = (byte) (raw[i] & 1);
        }
      }
      String header = "{\"inputs\":[{\"name\":\"" + FixtureModels.IDENTITY_INPUT + "\",\"datatype\":\"" + WIRE.get(type)
          + "\",\"shape\":[" + ROWS + "," + COLS + "],\"parameters\":{\"binary_data_size\":" + raw.length + "}}]}";
      byte[] headerBytes = header.getBytes(java.nio.charset.StandardCharsets.UTF_8);
      byte[] body = java.util.Arrays.copyOf(headerBytes, headerBytes.length + raw.length);
      System.arraycopy(raw, 0, body, headerBytes.length, raw.length);
      URI uri = URI.create("http://127.0.0.1:" + server.server().httpPort().orElseThrow() + "/v2/models/"
          + modelName(type) + "/infer");
      HttpResponse<String> answer = HTTP.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10))
          .header("Inference-Header-Content-Length", Integer.toString(headerBytes.length))
          .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
      String data = answer.body().substring(answer.body().indexOf("\"data\":[") + 8);
      String[] got = data.substring(0, data.indexOf(']')).split(",");
      ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < ROWS * COLS; i++) {
        String expected = switch (type) {
          case BOOL -> b.get() != 0 ? "true" : "false";
          case UINT8 -> Integer.toString(b.get() & 0xff);
          case INT8 -> Byte.toString(b.get());
          case INT16 -> Short.toString(b.getShort());
          case INT32 -> Integer.toString(b.getInt());
          case INT64 -> Long.toString(b.getLong());
          case FLOAT16 -> number(half(b.getShort()));
          case BFLOAT16 -> number(Float.intBitsToFloat((b.getShort() & 0xffff) << 16));
          case FLOAT -> number(b.getFloat());
          default -> number(b.getDouble());
        };
        String what = type + " element " + i + " of round " + round + " in " + answer.body();
        if (type == OnnxType.DOUBLE) {
          assertThat(Double.doubleToLongBits(Double.parseDouble(got[i]))).as(what)
              .isEqualTo(Double.doubleToLongBits(Double.parseDouble(expected)));
        } else if (type == OnnxType.FLOAT16 || type == OnnxType.BFLOAT16 || type == OnnxType.FLOAT) {
          // Written as the shortest text that reads back as the same float (every half is a float exactly).
          assertThat(Float.floatToIntBits(Float.parseFloat(got[i]))).as(what)
              .isEqualTo(Float.floatToIntBits((float) Double.parseDouble(expected)));
        } else {
          assertThat(got[i]).as(what).isEqualTo(expected);
        }
      }
    }
  }

  /** IEEE 754 binary16, decoded from its fields (independently of the server's conversion). */
  private static double half(short h) {
    int exponent = (h >>> 10) & 0x1f;
    int mantissa = h & 0x3ff;
    double magnitude = exponent == 0 ? mantissa * Math.pow(2, -24)
        : exponent == 31 ? (mantissa == 0 ? Double.POSITIVE_INFINITY : Double.NaN)
        : (1 + mantissa / 1024.0) * Math.pow(2, exponent - 15);
    return (h & 0x8000) != 0 ? -magnitude : magnitude;
  }

  private static String number(double v) {
    return Double.isNaN(v) ? "NaN" : Double.isInfinite(v) ? (v > 0 ? "Infinity" : "-Infinity") : Double.toString(v);
  }

  private static HttpResponse<String> restInfer(OnnxType type, String data) throws Exception {
    String body = "{\"inputs\":[{\"name\":\"" + FixtureModels.IDENTITY_INPUT + "\",\"datatype\":\"" + WIRE.get(type)
        + "\",\"shape\":[" + ROWS + "," + COLS + "],\"data\":" + data + "}]}";
    URI uri = URI.create("http://127.0.0.1:" + server.server().httpPort().orElseThrow() + "/v2/models/"
        + modelName(type) + "/infer");
    return HTTP.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private static byte[] typed(OnnxType type, InferTensorContents.Builder contents) {
    return server.blocking().modelInfer(ModelInferRequest.newBuilder().setModelName(modelName(type))
            .addInputs(input(FixtureModels.IDENTITY_INPUT, WIRE.get(type), ROWS, COLS).setContents(contents)).build())
        .getRawOutputContents(0).toByteArray();
  }

  private static byte[] le(int n, int size, IntToLongFunction value) {
    ByteBuffer b = ByteBuffer.allocate(n * size).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      long v = value.applyAsLong(i);
      switch (size) {
        case 1 -> b.put((byte) v);
        case 2 -> b.putShort((short) v);
        case 4 -> b.putInt((int) v);
        default -> b.putLong(v);
      }
    }
    return b.array();
  }
}
