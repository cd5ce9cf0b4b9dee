package io.junction.loadtest.check;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.junction.proto.inference.InferTensorContents;
import io.junction.proto.inference.ModelInferRequest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads golden cases from JSON lines, one case per line, tensors written as in the KServe v2 REST
 * protocol (so a request body that already works with curl is a golden input):
 *
 * <pre>{@code
 * {"name": "zeros", "inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 8], "data": [0, 0, 0, 0, 0, 0, 0, 0]}],
 *  "outputs": [{"name": "y", "data": [0.1, 0.2, 0.3, 0.4], "atol": 1e-5, "rtol": 1e-4}]}
 * {"name": "cat", "inputs": [...], "outputs": [{"name": "scores", "data": [...], "top_k": 1}]}
 * }</pre>
 *
 * {@code data} may be nested as the shape is; tolerances default to {@code atol} 1e-5 and {@code rtol}
 * 1e-4 (numpy's {@code allclose} rule); {@code top_k} checks classes instead of values. Blank lines and
 * lines starting with {@code #} are skipped.
 */
public final class GoldenFile {
  static final double DEFAULT_ABSOLUTE = 1e-5;
  static final double DEFAULT_RELATIVE = 1e-4;

  private GoldenFile() {}

  public static List<GoldenCase> read(Path file) throws IOException {
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    List<GoldenCase> cases = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      try {
        cases.add(parse(JsonParser.parseString(line).getAsJsonObject(), "line " + (i + 1)));
      } catch (RuntimeException e) {
        throw new IllegalArgumentException(file + " line " + (i + 1) + ": " + e.getMessage(), e);
      }
    }
    if (cases.isEmpty()) {
      throw new IllegalArgumentException(file + " has no golden cases");
    }
    return cases;
  }

  private static GoldenCase parse(JsonObject json, String where) {
    String name = json.has("name") ? json.get("name").getAsString() : where;
    ModelInferRequest.Builder request = ModelInferRequest.newBuilder().setId(name);
    for (JsonElement e : required(json, "inputs")) {
      JsonObject t = e.getAsJsonObject();
      String datatype = string(t, "datatype");
      ModelInferRequest.InferInputTensor.Builder input = ModelInferRequest.InferInputTensor.newBuilder()
          .setName(string(t, "name")).setDatatype(datatype);
      for (JsonElement d : required(t, "shape")) {
        input.addShape(d.getAsLong());
      }
      List<JsonElement> data = flat(t.get("data"));
      input.setContents(contents(datatype, data));
      request.addInputs(input);
    }
    List<GoldenCase.ExpectedOutput> expected = new ArrayList<>();
    for (JsonElement e : required(json, "outputs")) {
      JsonObject o = e.getAsJsonObject();
      String output = string(o, "name");
      request.addOutputs(ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName(output));
      List<JsonElement> data = flat(o.get("data"));
      boolean strings = !data.isEmpty() && data.get(0).getAsJsonPrimitive().isString();
      expected.add(new GoldenCase.ExpectedOutput(output,
          strings ? new double[0] : data.stream().mapToDouble(JsonElement::getAsDouble).toArray(),
          strings ? data.stream().map(JsonElement::getAsString).toList() : List.of(),
          o.has("atol") ? o.get("atol").getAsDouble() : DEFAULT_ABSOLUTE,
          o.has("rtol") ? o.get("rtol").getAsDouble() : DEFAULT_RELATIVE,
          o.has("top_k") ? o.get("top_k").getAsInt() : 0));
    }
    return new GoldenCase(name, request.build(), expected);
  }

  private static InferTensorContents contents(String datatype, List<JsonElement> data) {
    InferTensorContents.Builder c = InferTensorContents.newBuilder();
    switch (datatype) {
      case "BOOL" -> data.forEach(d -> c.addBoolContents(d.getAsBoolean()));
      case "INT8", "INT16", "INT32" -> data.forEach(d -> c.addIntContents(d.getAsInt()));
      case "INT64" -> data.forEach(d -> c.addInt64Contents(d.getAsLong()));
      case "UINT8", "UINT16", "UINT32" -> data.forEach(d -> c.addUintContents(d.getAsInt()));
      case "UINT64" -> data.forEach(d -> c.addUint64Contents(d.getAsLong()));
      case "FP32" -> data.forEach(d -> c.addFp32Contents(d.getAsFloat()));
      case "FP64" -> data.forEach(d -> c.addFp64Contents(d.getAsDouble()));
      case "BYTES" -> data.forEach(d -> c.addBytesContents(com.google.protobuf.ByteString.copyFromUtf8(d.getAsString())));
      default -> throw new IllegalArgumentException("datatype " + datatype + " cannot be written in JSON");
    }
    return c.build();
  }

  private static List<JsonElement> flat(JsonElement data) {
    if (data == null) {
      throw new IllegalArgumentException("a tensor without \"data\"");
    }
    List<JsonElement> out = new ArrayList<>();
    flatten(data, out);
    return out;
  }

  private static void flatten(JsonElement e, List<JsonElement> out) {
    if (e.isJsonArray()) {
      e.getAsJsonArray().forEach(x -> flatten(x, out));
    } else {
      out.add(e);
    }
  }

  private static JsonArray required(JsonObject o, String key) {
    if (!o.has(key) || !o.get(key).isJsonArray()) {
      throw new IllegalArgumentException("\"" + key + "\" must be an array");
    }
    return o.getAsJsonArray(key);
  }

  private static String string(JsonObject o, String key) {
    if (!o.has(key)) {
      throw new IllegalArgumentException("a tensor without \"" + key + "\"");
    }
    return o.get(key).getAsString();
  }
}
