package io.junction.server.payload;

import com.google.gson.Strictness;
import com.google.gson.stream.JsonWriter;
import io.junction.server.tensor.DataType;
import io.junction.server.tensor.Tensor;
import io.junction.server.tensor.TensorJson;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Instant;
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

  /** The record as one line of JSON (the JSON-lines sink's line, the other sinks' body). */
  public String toJson() {
    StringWriter out = new StringWriter(512);
    writeJson(out);
    return out.toString();
  }

  /** Writes the record's JSON to {@code out} (not closed). */
  public void writeJson(java.io.Writer out) {
    try {
      JsonWriter w = new JsonWriter(out);
      w.setStrictness(Strictness.LENIENT); // NaN and infinities as such
      w.beginObject();
      w.name("time").value(Instant.ofEpochMilli(timeMillis).toString());
      w.name("model").value(model);
      w.name("version").value(version);
      if (!route.isEmpty()) {
        w.name("route").value(route).name("variant").value(variant);
      }
      w.name("request_id").value(requestId);
      if (traceId != null) {
        w.name("trace_id").value(traceId);
      }
      w.name("status").value(status);
      w.name("latency_us").value(latencyMicros);
      tensors(w, "inputs", inputs);
      tensors(w, "outputs", outputs);
      if (!error.isEmpty()) {
        w.name("error").value(error);
      }
      w.endObject();
      w.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void tensors(JsonWriter w, String field, List<TensorRecord> tensors) throws IOException {
    if (tensors.isEmpty()) {
      return;
    }
    w.name(field).beginArray();
    for (TensorRecord t : tensors) {
      w.beginObject().name("name").value(t.name());
      if (t.excluded()) {
        w.name("excluded").value(true).endObject();
        continue;
      }
      w.name("datatype").value(t.datatype());
      w.name("shape").beginArray();
      for (long d : t.shape()) {
        w.value(d);
      }
      w.endArray();
      if (t.values() != null) {
        w.name("data");
        TensorJson.writeData(w, t.values());
      } else {
        Summary s = t.summary();
        w.name("summary").beginObject().name("elements").value(s.elements());
        if (!Double.isNaN(s.mean())) {
          w.name("min").value(s.min()).name("max").value(s.max()).name("mean").value(s.mean());
        }
        w.name("sha256").value(s.sha256()).endObject();
      }
      w.endObject();
    }
    w.endArray();
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
