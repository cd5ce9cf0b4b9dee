package io.junction.server.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.junction.server.errors.InvalidInputException;
import io.junction.server.inference.InferenceCall;
import io.junction.server.inference.InferenceOutcome;
import io.junction.server.inference.InputTensor;
import io.junction.server.inference.Parameter;
import io.junction.server.inference.RequestedOutput;
import io.junction.server.inference.TensorPayload;
import io.junction.server.routing.RouteDecision;
import io.junction.server.tensor.DataType;
import io.junction.server.tensor.RawTensors;
import io.junction.server.tensor.Shapes;
import io.junction.server.tensor.Tensor;
import io.junction.server.tensor.TensorJson;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
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
   * @param json the owner's factory ({@link TensorJson#newFactory()}), whose limits bound the nesting
   * @param jsonLength the JSON part's length (the header above), or -1 when the whole body is JSON
   * @throws InvalidInputException naming what is wrong with the body
   */
  static Decoded decode(JsonFactory json, String model, String version, byte[] body, int jsonLength) {
    int jsonEnd = jsonLength < 0 ? body.length : jsonLength;
    if (jsonEnd > body.length) {
      throw new InvalidInputException("model '" + model + "': " + HEADER_LENGTH + " is " + jsonEnd + " but the body has "
          + body.length + " bytes");
    }
    try (JsonParser parser = json.createParser(body, 0, jsonEnd)) {
      return read(parser, model, version, body, jsonEnd);
    } catch (IOException e) {
      throw new InvalidInputException("model '" + model + "': the request body is not a valid inference request: "
          + HttpErrors.jsonProblem(e));
    }
  }

  private static Decoded read(JsonParser p, String model, String version, byte[] body, int binaryStart)
      throws IOException {
    String id = "";
    Map<String, Parameter> parameters = Map.of();
    List<RawInput> inputs = new ArrayList<>();
    List<RequestedOutput> outputs = new ArrayList<>();
    Set<String> binaryOutputs = new HashSet<>();
    expect(p, p.nextToken(), JsonToken.START_OBJECT, "the body must be an object");
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String field = p.currentName();
      JsonToken value = p.nextToken();
      switch (field) {
        case "id" -> id = scalar(p, value, "id must be a string");
        case "parameters" -> parameters = parameters(p, value);
        case "inputs" -> {
          expect(p, value, JsonToken.START_ARRAY, "inputs must be an array");
          while (p.nextToken() != JsonToken.END_ARRAY) {
            inputs.add(input(p, model));
          }
        }
        case "outputs" -> {
          expect(p, value, JsonToken.START_ARRAY, "outputs must be an array");
          while (p.nextToken() != JsonToken.END_ARRAY) {
            RequestedOutput output = output(p, model);
            outputs.add(output);
            if (Parameter.isTrue(output.parameters(), BINARY_DATA)) {
              binaryOutputs.add(output.name());
            }
          }
        }
        default -> p.skipChildren();
      }
    }
    if (p.nextToken() != null) {
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
    boolean allBinary = Parameter.isTrue(parameters, BINARY_DATA_OUTPUT);
    return new Decoded(new InferenceCall(id, model, version, tensors, outputs, parameters), allBinary, binaryOutputs);
  }

  /** One element of {@code outputs}, the parser on its opening brace. */
  private static RequestedOutput output(JsonParser p, String model) throws IOException {
    String name = null;
    Map<String, Parameter> parameters = Map.of();
    expect(p, p.currentToken(), JsonToken.START_OBJECT, "each requested output must be an object");
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String field = p.currentName();
      JsonToken value = p.nextToken();
      switch (field) {
        case "name" -> name = scalar(p, value, "an output's name must be a string");
        case "parameters" -> parameters = parameters(p, value);
        default -> p.skipChildren();
      }
    }
    if (name == null) {
      throw new InvalidInputException("model '" + model + "': a requested output has no name");
    }
    return new RequestedOutput(name, parameters);
  }

  private static final class RawInput {
    String name;
    String datatype;
    long[] shape;
    JsonColumn data;
    long binarySize = -1;
  }

  /** One element of {@code inputs}, the parser on its opening brace. */
  private static RawInput input(JsonParser p, String model) throws IOException {
    RawInput in = new RawInput();
    expect(p, p.currentToken(), JsonToken.START_OBJECT, "each input must be an object");
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String field = p.currentName();
      JsonToken value = p.nextToken();
      switch (field) {
        case "name" -> in.name = scalar(p, value, "an input's name must be a string");
        case "datatype" -> in.datatype = scalar(p, value, "an input's datatype must be a string");
        case "shape" -> in.shape = shape(p, value);
        case "parameters" -> {
          Parameter size = parameters(p, value).get(BINARY_DATA_SIZE);
          if (size != null) {
            if (!(size.value() instanceof Long n) || n < 0) {
              throw new InvalidInputException("model '" + model + "': " + BINARY_DATA_SIZE + " must be a non-negative integer");
            }
            in.binarySize = n;
          }
        }
        case "data" -> in.data = data(p, value);
        default -> p.skipChildren();
      }
    }
    if (in.name == null || in.datatype == null || in.shape == null) {
      throw new InvalidInputException("model '" + model + "': every input needs a name, a datatype and a shape"
          + (in.name == null ? "" : " (input '" + in.name + "' does not have them all)"));
    }
    return in;
  }

  private static long[] shape(JsonParser p, JsonToken value) throws IOException {
    expect(p, value, JsonToken.START_ARRAY, "shape must be an array of integers");
    long[] dims = new long[8];
    int n = 0;
    while (p.nextToken() != JsonToken.END_ARRAY) {
      expect(p, p.currentToken(), JsonToken.VALUE_NUMBER_INT, "shape must hold integers");
      if (n == dims.length) {
        dims = Arrays.copyOf(dims, n * 2);
      }
      dims[n++] = p.getLongValue();
    }
    return Arrays.copyOf(dims, n);
  }

  /**
   * Reads {@code data}, flattening nested arrays (row-major) without recursion: numbers straight from the parser's
   * buffer, never as text first, so a large tensor sent as JSON costs its parsing and little more.
   */
  private static JsonColumn data(JsonParser p, JsonToken value) throws IOException {
    JsonColumn column = new JsonColumn();
    if (value != JsonToken.START_ARRAY) {
      readElement(p, value, column); // a lone value
      return column;
    }
    int depth = 1;
    while (depth > 0) {
      JsonToken token = p.nextToken();
      if (token == JsonToken.START_ARRAY) {
        depth++;
      } else if (token == JsonToken.END_ARRAY) {
        depth--;
      } else if (token == null) { // the parser reports a body cut short itself; this only keeps the loop finite
        throw new JsonParseException(p, "data ends before its arrays close");
      } else {
        readElement(p, token, column);
      }
    }
    return column;
  }

  private static void readElement(JsonParser p, JsonToken token, JsonColumn column) throws IOException {
    switch (token) {
      case VALUE_NUMBER_INT -> {
        if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) { // beyond a long: UINT64's upper half, or FP64
          column.addBigInteger(p.getBigIntegerValue());
        } else {
          column.addLong(p.getLongValue());
        }
      }
      case VALUE_NUMBER_FLOAT -> column.addDouble(p.getDoubleValue());
      case VALUE_TRUE -> column.addBoolean(true);
      case VALUE_FALSE -> column.addBoolean(false);
      case VALUE_STRING -> column.addString(p.getText());
      default -> throw new JsonParseException(p, "data holds " + p.getText() + "; expected numbers, booleans or strings");
    }
  }

  /**
   * An object of named parameters (strings, booleans, integers, other numbers; anything else skipped), the parser on
   * its opening brace.
   */
  static Map<String, Parameter> parameters(JsonParser p, JsonToken value) throws IOException {
    expect(p, value, JsonToken.START_OBJECT, "parameters must be an object");
    Map<String, Parameter> out = new HashMap<>();
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      switch (p.nextToken()) {
        case VALUE_TRUE -> out.put(name, Parameter.of(true));
        case VALUE_FALSE -> out.put(name, Parameter.of(false));
        case VALUE_STRING -> out.put(name, Parameter.of(p.getText()));
        case VALUE_NUMBER_INT -> out.put(name, Parameter.int64(p.getLongValue()));
        case VALUE_NUMBER_FLOAT -> out.put(name, Parameter.of(p.getDoubleValue()));
        default -> p.skipChildren();
      }
    }
    return out;
  }

  /** A string, or a number given where a string is expected (as clients send request ids), as text. */
  private static String scalar(JsonParser p, JsonToken value, String requirement) throws IOException {
    if (value == JsonToken.VALUE_STRING || value == JsonToken.VALUE_NUMBER_INT || value == JsonToken.VALUE_NUMBER_FLOAT) {
      return p.getText();
    }
    throw new JsonParseException(p, requirement + ", got " + p.getText());
  }

  /** @param requirement what the client's JSON must have been, e.g. "inputs must be an array" */
  static void expect(JsonParser p, JsonToken actual, JsonToken expected, String requirement) throws IOException {
    if (actual != expected) {
      throw new JsonParseException(p, requirement + ", got " + (actual == null ? "the end of the body" : p.getText()));
    }
  }

  private static Tensor fromJson(String label, String name, DataType type, long[] shape, JsonColumn data) {
    long count = RawTensors.elementCount(label, name, shape);
    if (data.count() != count) {
      throw new InvalidInputException(label + ": input '" + name + "' of shape " + Shapes
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
