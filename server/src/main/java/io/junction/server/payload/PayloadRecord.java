package io.junction.server.payload;

import com.fasterxml.jackson.core.JsonGenerator;
import io.junction.server.tensor.DataType;
import io.junction.server.tensor.Tensor;
import io.junction.server.tensor.TensorJson;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * One logged call, copied out of the call's buffers (which the call owns) so that it can be written
 * later on the logger's own thread.
 *
 * @param timeMillis wall-clock arrival
 * @param route empty when the call named a model directly
 * @param traceId the call's trace, or null when not traced
 * @param spanId the call's server span, or null when not traced
 * @param status {@code OK}, or the failure's kind (e.g. {@code INVALID_ARGUMENT})
 * @param error the failure's message; empty on success
 */
public record PayloadRecord(long timeMillis, String model, String version, String route, String variant,
    String requestId, String traceId, String spanId, String status, long latencyMicros, List<TensorRecord> inputs,
    List<TensorRecord> outputs, String error) {

  /**
   * One tensor: its values (a copy) when small enough, else a summary; or only its name when excluded.
   *
   * @param values the tensor over a private copy of its bytes, or null
   * @param summary when the values are not kept, or null
   */
  public record TensorRecord(String name, String datatype, long[] shape, Tensor values, Summary summary,
      boolean excluded) {}

  /** What a large (or private) tensor is logged as. */
  public record Summary(long elements, double min, double max, double mean, String sha256) {}

  /**
   * Writes the record as one JSON object: the JSON-lines sink's line, the other sinks' body.
   *
   * @param times the writing thread's formatter of {@code time}
   */
  void writeJson(JsonGenerator g, IsoMillis times) throws IOException {
    g.writeStartObject();
    g.writeStringField("time", times.format(timeMillis));
    g.writeStringField("model", model);
    g.writeStringField("version", version);
    if (!route.isEmpty()) {
      g.writeStringField("route", route);
      g.writeStringField("variant", variant);
    }
    g.writeStringField("request_id", requestId);
    if (traceId != null) {
      g.writeStringField("trace_id", traceId);
    }
    g.writeStringField("status", status);
    g.writeNumberField("latency_us", latencyMicros);
    tensors(g, "inputs", inputs);
    tensors(g, "outputs", outputs);
    if (!error.isEmpty()) {
      g.writeStringField("error", error);
    }
    g.writeEndObject();
  }

  private static void tensors(JsonGenerator g, String field, List<TensorRecord> tensors) throws IOException {
    if (tensors.isEmpty()) {
      return;
    }
    g.writeArrayFieldStart(field);
    for (TensorRecord t : tensors) {
      g.writeStartObject();
      g.writeStringField("name", t.name());
      if (t.excluded()) {
        g.writeBooleanField("excluded", true);
        g.writeEndObject();
        continue;
      }
      g.writeStringField("datatype", t.datatype());
      g.writeArrayFieldStart("shape");
      for (long d : t.shape()) {
        g.writeNumber(d);
      }
      g.writeEndArray();
      if (t.values() != null) {
        g.writeFieldName("data");
        TensorJson.writeData(g, t.values());
      } else {
        Summary s = t.summary();
        g.writeObjectFieldStart("summary");
        g.writeNumberField("elements", s.elements());
        if (!Double.isNaN(s.mean())) {
          g.writeNumberField("min", s.min());
          g.writeNumberField("max", s.max());
          g.writeNumberField("mean", s.mean());
        }
        g.writeStringField("sha256", s.sha256());
        g.writeEndObject();
      }
      g.writeEndObject();
    }
    g.writeEndArray();
  }

  /** A record of {@code tensor} under {@code policy}: a copy of its values, a summary, or its name only. */
  static TensorRecord capture(Tensor tensor, PayloadLogPolicy policy) {
    long[] shape = tensor.shape();
    if (policy.excluded().contains(tensor.name())) {
      return new TensorRecord(tensor.name(), tensor.dataType().wireName(), shape, null, null, true);
    }
    long bytes = byteSize(tensor);
    if (!policy.summaryOnly() && bytes <= policy.maxTensorBytes()) {
      Tensor copy;
      if (tensor.dataType() == DataType.BYTES) {
        copy = Tensor.bytes(tensor.name(), shape, List.copyOf(tensor.elements()));
      } else {
        ByteBuffer src = tensor.data();
        ByteBuffer dst = ByteBuffer.allocate(src.remaining()).order(ByteOrder.LITTLE_ENDIAN);
        dst.put(src).flip();
        copy = Tensor.fixed(tensor.name(), tensor.dataType(), shape, dst);
      }
      return new TensorRecord(tensor.name(), tensor.dataType().wireName(), shape, copy, null, false);
    }
    return new TensorRecord(tensor.name(), tensor.dataType().wireName(), shape, null,
        TensorSummaries.of(tensor), false);
  }

  private static long byteSize(Tensor t) {
    if (t.dataType() != DataType.BYTES) {
      return t.data().remaining();
    }
    long n = 0;
    for (byte[] e : t.elements()) {
      n += 4 + e.length;
    }
    return n;
  }
}
