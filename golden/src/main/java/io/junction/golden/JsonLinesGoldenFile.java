package io.junction.golden;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Golden cases as JSON lines, one case per line, tensors written as in the KServe v2 REST protocol (so
 * a request body that already works with curl is a golden input):
 *
 * <pre>{@code
 * {"name": "zeros", "inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 8], "data": [0, 0, 0, 0, 0, 0, 0, 0]}],
 *  "outputs": [{"name": "y", "data": [0.1, 0.2, 0.3, 0.4], "atol": 1e-5, "rtol": 1e-4}]}
 * {"name": "cat", "inputs": [...], "outputs": [{"name": "scores", "shape": [1, 3], "data": [...], "top_k": 1}]}
 * }</pre>
 *
 * {@code data} may be nested as the shape is; an output's {@code shape} is optional (checked when given);
 * {@code top_k} checks classes instead of values. Blank lines and lines starting with {@code #} are skipped.
 */
final class JsonLinesGoldenFile {
  private JsonLinesGoldenFile() {}

  static List<GoldenCase> read(Path file) throws IOException {
    List<GoldenCase> cases = new ArrayList<>();
    try (BufferedReader lines = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      int number = 0;
      for (String line = lines.readLine(); line != null; line = lines.readLine()) {
        number++;
        line = line.strip();
        if (line.isEmpty() || line.startsWith("#")) {
          continue;
        }
        try {
          cases.add(parse(JsonParser.parseString(line).getAsJsonObject(), "line " + number));
        } catch (RuntimeException e) {
          throw new IllegalArgumentException("line " + number + ": " + e.getMessage(), e);
        }
      }
    }
    return cases;
  }

  private static GoldenCase parse(JsonObject json, String where) {
    String name = json.has("name") ? json.get("name").getAsString() : where;
    List<GoldenTensor> inputs = new ArrayList<>();
    for (JsonElement e : required(json, "inputs")) {
      JsonObject t = e.getAsJsonObject();
      String tensor = string(t, "name");
      long[] shape = shape(required(t, "shape"));
      inputs.add(tensor(tensor, string(t, "datatype"), shape, flat(t.get("data"))));
    }
    List<GoldenCase.ExpectedOutput> expected = new ArrayList<>();
    for (JsonElement e : required(json, "outputs")) {
      JsonObject o = e.getAsJsonObject();
      List<JsonElement> data = flat(o.get("data"));
      boolean strings = !data.isEmpty() && data.get(0).getAsJsonPrimitive().isString();
      expected.add(new GoldenCase.ExpectedOutput(string(o, "name"),
          strings ? new double[0] : data.stream().mapToDouble(JsonElement::getAsDouble).toArray(),
          strings ? data.stream().map(JsonElement::getAsString).toList() : List.of(),
          o.has("shape") ? Optional.of(shape(o.getAsJsonArray("shape"))) : Optional.empty(),
          new GoldenCase.Tolerance(
              o.has("atol") ? o.get("atol").getAsDouble() : GoldenCase.Tolerance.DEFAULT_ABSOLUTE,
              o.has("rtol") ? o.get("rtol").getAsDouble() : GoldenCase.Tolerance.DEFAULT_RELATIVE,
              o.has("top_k") ? o.get("top_k").getAsInt() : 0)));
    }
    return new GoldenCase(name, inputs, expected);
  }

  private static long[] shape(JsonArray dims) {
    long[] shape = new long[dims.size()];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = dims.get(i).getAsLong();
    }
    return shape;
  }

  private static GoldenTensor tensor(String name, String datatype, long[] shape, List<JsonElement> data) {
    if (datatype.equals("BYTES")) {
      return GoldenTensor.ofStrings(name, shape,
          data.stream().map(d -> d.getAsString().getBytes(StandardCharsets.UTF_8)).toList());
    }
    int size = GoldenTensor.elementBytes(datatype);
    if (size <= 0) {
      throw new IllegalArgumentException("tensor '" + name + "' has unknown datatype '" + datatype + "'");
    }
    ByteBuffer b = ByteBuffer.allocate(Math.multiplyExact(data.size(), size)).order(ByteOrder.LITTLE_ENDIAN);
    for (JsonElement d : data) {
      switch (datatype) {
        case "BOOL" -> b.put((byte) (d.getAsBoolean() ? 1 : 0));
        case "INT8", "UINT8" -> b.put((byte) d.getAsInt());
        case "INT16", "UINT16" -> b.putShort((short) d.getAsInt());
        case "FP16" -> b.putShort(HalfFloats.toFp16(d.getAsFloat()));
        case "BF16" -> b.putShort(HalfFloats.toBf16(d.getAsFloat()));
        case "INT32", "UINT32" -> b.putInt((int) d.getAsLong());
        case "FP32" -> b.putFloat(d.getAsFloat());
        case "INT64", "UINT64" -> b.putLong(d.getAsBigInteger().longValue());
        default -> b.putDouble(d.getAsDouble());
      }
    }
    return GoldenTensor.of(name, datatype, shape, b.array());
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
