package io.junction.server.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import io.junction.server.errors.InvalidInputException;
import io.junction.server.inference.InferenceCall;
import io.junction.server.inference.InferenceOutcome;
import io.junction.server.inference.InputTensor;
import io.junction.server.inference.Parameter;
import io.junction.server.inference.TensorPayload;
import io.junction.server.routing.RouteDecision;
import io.junction.server.tensor.DataType;
import io.junction.server.tensor.RawTensors;
import io.junction.server.tensor.Tensor;
import io.junction.server.tensor.TensorJson;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The REST form of an inference call (KServe v2 HTTP/REST, with Triton's binary tensor data extension)
 * to a transport-neutral {@link InferenceCall}, and an outcome back to JSON (and binary data).
 *
 * <p>The JSON is read as a stream: input data goes straight into compact columns ({@link JsonColumn}),
 * nested arrays flattened; binary inputs stay slices of the body. As over gRPC, nothing becomes a tensor
 * before the pipeline has checked names, datatypes and shapes against the model.
 */
final class RestInferCodec {
  /** Triton's header: the JSON part's length; binary tensor data follows it in the body. */
  static final String HEADER_LENGTH = "Inference-Header-Content-Length";
  static final String BINARY_DATA_SIZE = "binary_data_size";
  static final String BINARY_DATA = "binary_data";
  static final String BINARY_DATA_OUTPUT = "binary_data_output";

  /** A decoded call and which outputs the caller wants as binary data. */
  record Decoded(InferenceCall call, boolean allBinary, Set<String> binaryOutputs) {}

  /** An encoded answer: the body and, when it carries binary data, the length of its JSON part. */
  record Encoded(byte[] body, int jsonLength, boolean binary) {}

  private RestInferCodec() {}

  /**
   * @param jsonLength the JSON part's length (the header above), or -1 when the whole body is JSON
   * @throws InvalidInputException naming what is wrong with the body
   */
  static Decoded decode(String model, String version, byte[] body, int jsonLength) {
    int json = jsonLength < 0 ? body.length : jsonLength;
    if (json > body.length) {
      throw new InvalidInputException("model '" + model + "': " + HEADER_LENGTH + " is " + json + " but the body has "
          + body.length + " bytes");
    }
    try (JsonReader reader = new JsonReader(new InputStreamReader(new ByteArrayInputStream(body, 0, json),
        StandardCharsets.UTF_8))) {
      reader.setStrictness(Strictness.LEGACY_STRICT);
      reader.setNestingLimit(64);
      return read(reader, model, version, body, json);
    } catch (IOException | IllegalStateException | NumberFormatException e) {
      throw new InvalidInputException("model '" + model + "': the request body is not a valid inference request: "
          + HttpErrors.jsonProblem(e));
    }
  }

  private static Decoded read(JsonReader reader, String model, String version, byte[] body, int binaryStart)
      throws IOException {
    String id = "";
    Map<String, Parameter> parameters = Map.of();
    List<RawInput> inputs = new ArrayList<>();
    List<String> outputs = new ArrayList<>();
    Set<String> binaryOutputs = new HashSet<>();
    reader.beginObject();
    while (reader.hasNext()) {
      switch (reader.nextName()) {
        case "id" -> id = reader.nextString();
        case "parameters" -> parameters = parameters(reader);
        case "inputs" -> {
          reader.beginArray();
          while (reader.hasNext()) {
            inputs.add(input(reader, model));
          }
          reader.endArray();
        }
        case "outputs" -> {
          reader.beginArray();
          while (reader.hasNext()) {
            String name = null;
            boolean binary = false;
            reader.beginObject();
            while (reader.hasNext()) {
              switch (reader.nextName()) {
                case "name" -> name = reader.nextString();
                case "parameters" -> binary = parameters(reader).getOrDefault(BINARY_DATA, Parameter.of(false))
                    .value().equals(Boolean.TRUE);
                default -> reader.skipValue();
              }
            }
            reader.endObject();
            if (name == null) {
              throw new InvalidInputException("model '" + model + "': a requested output has no name");
            }
            outputs.add(name);
            if (binary) {
              binaryOutputs.add(name);
            }
          }
          reader.endArray();
        }
        default -> reader.skipValue();
      }
    }
    reader.endObject();
    if (reader.peek() != JsonToken.END_DOCUMENT) {
      throw new InvalidInputException("model '" + model + "': the request has more after its JSON object");
    }
    // Binary data follows the JSON in the order of the inputs that claim it.
    int offset = binaryStart;
    List<InputTensor> tensors = new ArrayList<>(inputs.size());
    for (RawInput in : inputs) {
      TensorPayload payload;
      if (in.binarySize >= 0) {
        if (in.data != null) {
          throw new InvalidInputException("model '" + model + "': input '" + in.name + "' has both data and "
              + BINARY_DATA_SIZE);
        }
        if (in.binarySize > body.length - offset) {
          throw new InvalidInputException("model '" + model + "': input '" + in.name + "' claims " + in.binarySize
              + " bytes of binary data but only " + (body.length - offset) + " remain in the body");
        }
        ByteBuffer slice = ByteBuffer.wrap(body, offset, (int) in.binarySize).slice();
        offset += (int) in.binarySize;
        payload = (label, name, type, shape) -> RawTensors.decode(label, name, type, shape, slice, "binary data");
      } else if (in.data != null) {
        JsonColumn data = in.data;
        payload = (label, name, type, shape) -> fromJson(label, name, type, shape, data);
      } else {
        payload = (label, name, type, shape) -> {
          throw new InvalidInputException(label + ": input '" + name + "' has neither data nor " + BINARY_DATA_SIZE);
        };
      }
      tensors.add(new InputTensor(in.name, in.datatype, in.shape, payload));
    }
    if (offset != body.length) {
      throw new InvalidInputException("model '" + model + "': the body has " + (body.length - offset)
          + " bytes of binary data that no input claims");
    }
    boolean allBinary = parameters.containsKey(BINARY_DATA_OUTPUT)
        && Boolean.TRUE.equals(parameters.get(BINARY_DATA_OUTPUT).value());
    return new Decoded(new InferenceCall(id, model, version, tensors, outputs, parameters), allBinary, binaryOutputs);
  }

  private static final class RawInput {
    String name;
    String datatype;
    long[] shape;
    JsonColumn data;
    long binarySize = -1;
  }

  private static RawInput input(JsonReader reader, String model) throws IOException {
    RawInput in = new RawInput();
    reader.beginObject();
    while (reader.hasNext()) {
      switch (reader.nextName()) {
        case "name" -> in.name = reader.nextString();
        case "datatype" -> in.datatype = reader.nextString();
        case "shape" -> {
          List<Long> dims = new ArrayList<>();
          reader.beginArray();
          while (reader.hasNext()) {
            dims.add(reader.nextLong());
          }
          reader.endArray();
          in.shape = dims.stream().mapToLong(Long::longValue).toArray();
        }
        case "parameters" -> {
          Parameter size = parameters(reader).get(BINARY_DATA_SIZE);
          if (size != null) {
            if (!(size.value() instanceof Long n) || n < 0) {
              throw new InvalidInputException("model '" + model + "': " + BINARY_DATA_SIZE + " must be a non-negative integer");
            }
            in.binarySize = n;
          }
        }
        case "data" -> in.data = data(reader);
        default -> reader.skipValue();
      }
    }
    reader.endObject();
    if (in.name == null || in.datatype == null || in.shape == null) {
      throw new InvalidInputException("model '" + model + "': every input needs a name, a datatype and a shape"
          + (in.name == null ? "" : " (input '" + in.name + "' does not have them all)"));
    }
    return in;
  }

  /** Reads {@code data}, flattening nested arrays (row-major) without recursion. */
  private static JsonColumn data(JsonReader reader) throws IOException {
    JsonColumn column = new JsonColumn();
    if (reader.peek() != JsonToken.BEGIN_ARRAY) {
      readElement(reader, column); // a lone value
      return column;
    }
    int depth = 0;
    do {
      JsonToken token = reader.peek();
      if (token == JsonToken.BEGIN_ARRAY) {
        reader.beginArray();
        depth++;
      } else if (token == JsonToken.END_ARRAY) {
        reader.endArray();
        depth--;
      } else {
        readElement(reader, column);
      }
    } while (depth > 0);
    return column;
  }

  private static void readElement(JsonReader reader, JsonColumn column) throws IOException {
    switch (reader.peek()) {
      case NUMBER -> {
        String number = reader.nextString();
        if (number.indexOf('.') < 0 && number.indexOf('e') < 0 && number.indexOf('E') < 0) {
          column.addLong(Long.parseLong(number));
        } else {
          column.addDouble(Double.parseDouble(number));
        }
      }
      case BOOLEAN -> column.addBoolean(reader.nextBoolean());
      case STRING -> column.addString(reader.nextString());
      default -> throw new IllegalStateException("data holds " + reader.peek() + "; expected numbers, booleans or strings");
    }
  }

  static Map<String, Parameter> parameters(JsonReader reader) throws IOException {
    Map<String, Parameter> out = new HashMap<>();
    reader.beginObject();
    while (reader.hasNext()) {
      String name = reader.nextName();
      switch (reader.peek()) {
        case BOOLEAN -> out.put(name, Parameter.of(reader.nextBoolean()));
        case STRING -> out.put(name, Parameter.of(reader.nextString()));
        case NUMBER -> {
          String number = reader.nextString();
          out.put(name, number.matches("-?\\d+") ? Parameter.int64(Long.parseLong(number))
              : Parameter.of(Double.parseDouble(number)));
        }
        default -> reader.skipValue();
      }
    }
    reader.endObject();
    return out;
  }

  private static Tensor fromJson(String label, String name, DataType type, long[] shape, JsonColumn data) {
    long count = RawTensors.elementCount(label, name, shape);
    if (data.count() != count) {
      throw new InvalidInputException(label + ": input '" + name + "' of shape " + io.junction.server.tensor.Shapes
          .format(shape) + " needs " + count + " elements in data, got " + data.count());
    }
    if (type == DataType.BYTES) {
      return Tensor.bytes(name, shape, data.strings(label, name));
    }
    return Tensor.fixed(name, type, shape, data.encode(label, name, type));
  }

  /**
   * A successful outcome as Triton answers it: JSON, and binary data after it for outputs that asked.
   *
   * @param json the owner's factory ({@link TensorJson#newFactory()})
   */
  static Encoded encode(JsonFactory json, InferenceOutcome outcome, boolean allBinary, Set<String> binaryOutputs) {
    var result = outcome.result();
    List<byte[]> binary = new ArrayList<>();
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    try (JsonGenerator g = json.createGenerator(body)) { // NaN and infinities are written as such, as Triton does
      g.writeStartObject();
      g.writeStringField("model_name", result.modelName());
      g.writeStringField("model_version", Long.toString(result.modelVersion()));
      if (!result.id().isEmpty()) {
        g.writeStringField("id", result.id());
      }
      RouteDecision route = outcome.route();
      if (route != null) {
        g.writeObjectFieldStart("parameters");
        g.writeStringField("junction_route", route.route().name());
        g.writeStringField("junction_variant", route.variant().name());
        g.writeEndObject();
      }
      g.writeArrayFieldStart("outputs");
      for (Tensor output : result.outputs()) {
        g.writeStartObject();
        g.writeStringField("name", output.name());
        g.writeStringField("datatype", output.dataType().wireName());
        g.writeArrayFieldStart("shape");
        for (int d = 0; d < output.rank(); d++) {
          g.writeNumber(output.dim(d));
        }
        g.writeEndArray();
        if (allBinary || binaryOutputs.contains(output.name())) {
          byte[] bytes = raw(output);
          binary.add(bytes);
          g.writeObjectFieldStart("parameters");
          g.writeNumberField(BINARY_DATA_SIZE, bytes.length);
          g.writeEndObject();
        } else {
          g.writeFieldName("data");
          TensorJson.writeData(g, output);
        }
        g.writeEndObject();
      }
      g.writeEndArray();
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    int jsonLength = body.size();
    if (binary.isEmpty()) {
      return new Encoded(body.toByteArray(), jsonLength, false);
    }
    binary.forEach(body::writeBytes);
    return new Encoded(body.toByteArray(), jsonLength, true);
  }

  private static byte[] raw(Tensor t) {
    if (t.dataType() == DataType.BYTES) {
      return RawTensors.encodeBytes(t.elements());
    }
    ByteBuffer data = t.data();
    byte[] bytes = new byte[data.remaining()];
    data.get(bytes);
    return bytes;
  }
}
