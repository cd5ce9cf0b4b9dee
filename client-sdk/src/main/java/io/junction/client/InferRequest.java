package io.junction.client;

import io.junction.proto.inference.ModelInferRequest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.time.Duration;

/**
 * One inference request: model, optional version and id, inputs, wanted outputs, and how this call is
 * to be treated: deadline, priority, queue timeout, routing key, pinned variant, per-call headers.
 * Immutable once built; one request may be sent many times, from any thread.
 */
public final class InferRequest {
  /** The header a route's sticky split hashes (Junction's default routing key). */
  public static final String ROUTING_KEY_HEADER = "x-routing-key";
  /** The header that pins a call to one variant of a route, and names the variant that served an answer. */
  public static final String VARIANT_HEADER = "x-junction-variant";

  private final ModelInferRequest proto;
  private final Map<String, String> headers;
  private final Duration deadline;

  private InferRequest(ModelInferRequest proto, Map<String, String> headers, Duration deadline) {
    this.proto = proto;
    this.headers = Map.copyOf(headers);
    this.deadline = deadline;
  }

  /** This call's own deadline, when it has one (else the client's default applies). */
  public Optional<Duration> deadline() {
    return Optional.ofNullable(deadline);
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
    private final List<ModelInferRequest.InferRequestedOutputTensor> outputs = new ArrayList<>();
    private final Map<String, String> headers = new LinkedHashMap<>();
    private final Map<String, InferParameter> parameters = new LinkedHashMap<>();
    private Duration deadline;

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
      outputs.add(ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName(Objects.requireNonNull(name, "name"))
          .build());
      return this;
    }

    /**
     * Asks for this output as its {@code count} highest classes (Triton's classification extension), which
     * {@link InferResult#asStrings} reads: {@code "<value>:<index>"}, or {@code "<value>:<index>:<label>"} where the
     * model has labels, highest first, {@code count} per batch entry.
     */
    public Builder classification(String output, int count) {
      if (count < 1) {
        throw new IllegalArgumentException("a classification returns at least 1 class, got " + count);
      }
      outputs.add(ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName(Objects.requireNonNull(output, "output"))
          .putParameters("classification", io.junction.proto.inference.InferParameter.newBuilder().setInt64Param(count)
              .build())
          .build());
      return this;
    }

    /** A gRPC metadata entry sent with this call only. */
    public Builder header(String key, String value) {
      headers.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
      return this;
    }

    /** This call's deadline, instead of the client's default. */
    public Builder deadline(Duration deadline) {
      if (deadline.isNegative() || deadline.isZero()) {
        throw new IllegalArgumentException("deadline must be positive, got " + deadline);
      }
      this.deadline = deadline;
      return this;
    }

    /**
     * Triton's request priority: 1 is the highest; 0 (or none) is the model's default. Honoured by models
     * whose dynamic batching has priority levels; a level beyond a model's own runs at its default, as in Triton.
     */
    public Builder priority(long priority) {
      if (priority < 0) {
        throw new IllegalArgumentException("priority must be 0 or more, got " + priority);
      }
      return parameter("priority", InferParameter.ofInt(priority));
    }

    /** How long the request may wait in the model's queue before it is rejected (Triton's "timeout"). */
    public Builder queueTimeout(Duration timeout) {
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("queueTimeout must be positive, got " + timeout);
      }
      return parameter("timeout", InferParameter.ofInt(timeout.toNanos() / 1000));
    }

    /** The key a route's sticky split hashes: the same key reaches the same variant. */
    public Builder routingKey(String key) {
      return header(ROUTING_KEY_HEADER, key);
    }

    /** Pins the call to one variant of a route (e.g. to try a canary by hand). */
    public Builder variant(String variant) {
      return header(VARIANT_HEADER, variant);
    }

    /** A request parameter of the protocol (ModelInferRequest.parameters). */
    public Builder parameter(String name, InferParameter value) {
      parameters.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(value, "value"));
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
      outputs.forEach(b::addOutputs);
      parameters.forEach((name, value) -> b.putParameters(name, value.toProto()));
      return new InferRequest(b.build(), headers, deadline);
    }
  }
}
