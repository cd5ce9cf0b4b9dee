package io.junction.client;

import io.junction.proto.inference.ModelInferRequest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/** One inference request: model, optional version and id, inputs, wanted outputs, per-call headers. */
public final class InferRequest {
  private final ModelInferRequest proto;
  private final Map<String, String> headers;

  private InferRequest(ModelInferRequest proto, Map<String, String> headers) {
    this.proto = proto;
    this.headers = Map.copyOf(headers);
  }

  public static Builder builder(String model) {
    return new Builder(model);
  }

  ModelInferRequest toProto() {
    return proto;
  }

  Map<String, String> headers() {
    return headers;
  }

  public static final class Builder {
    private final String model;
    private String version = "";
    private String id = "";
    private final List<InferInput> inputs = new ArrayList<>();
    private final List<String> outputs = new ArrayList<>();
    private final Map<String, String> headers = new LinkedHashMap<>();

    private Builder(String model) {
      this.model = Objects.requireNonNull(model, "model");
    }

    /** A specific version; without one the server picks the newest ready version. */
    public Builder version(String version) {
      this.version = Objects.requireNonNull(version, "version");
      return this;
    }

    public Builder version(long version) {
      return version(Long.toString(version));
    }

    public Builder id(String id) {
      this.id = Objects.requireNonNull(id, "id");
      return this;
    }

    public Builder input(InferInput input) {
      inputs.add(Objects.requireNonNull(input, "input"));
      return this;
    }

    /** Asks for this output only (repeatable); without any, the server returns every output. */
    public Builder output(String name) {
      outputs.add(Objects.requireNonNull(name, "name"));
      return this;
    }

    /** A gRPC metadata entry sent with this call only. */
    public Builder header(String key, String value) {
      headers.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
      return this;
    }

    public InferRequest build() {
      ModelInferRequest.Builder b = ModelInferRequest.newBuilder().setModelName(model).setModelVersion(version).setId(id);
      for (InferInput input : inputs) {
        ModelInferRequest.InferInputTensor.Builder t = ModelInferRequest.InferInputTensor.newBuilder()
            .setName(input.name()).setDatatype(input.datatype().name());
        for (long d : input.shape()) {
          t.addShape(d);
        }
        b.addInputs(t).addRawInputContents(input.rawContents());
      }
      outputs.forEach(o -> b.addOutputs(ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName(o)));
      return new InferRequest(b.build(), headers);
    }
  }
}
