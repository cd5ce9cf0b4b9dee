package io.junction.server.inference;

import io.junction.server.model.ServedModel;
import io.junction.server.scheduling.InferenceRequest;
import io.junction.server.tensor.DataType;
import io.junction.server.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * What decides a model's answer to a request, for the {@link ResponseCache}: the model version, as loaded (a reload of
 * the same version may bring new weights), the outputs asked for (in order: the answer lists them so) and every
 * input's name, type, shape and contents. Two keys are equal only
 * when all of that is; the hash, over the same, only sorts them.
 *
 * <p>A key made for a lookup holds views of the request's inputs ({@link #of}); the key kept in the cache holds
 * copies ({@link #copy}).
 */
public final class RequestKey {
  /** The golden ratio's odd 64-bit multiplier, a well-known mixing constant. */
  private static final long MIX = 0x9E3779B97F4A7C15L;
  private final String model;
  private final long version;
  private final long load;
  private final List<String> outputs;
  private final List<Input> inputs;
  private final int hash;

  private RequestKey(String model, long version, long load, List<String> outputs, List<Input> inputs) {
    this.model = model;
    this.version = version;
    this.load = load;
    this.outputs = outputs;
    this.inputs = inputs;
    int h = Objects.hash(model, version, load, outputs);
    for (Input i : inputs) {
      h = 31 * h + i.hash();
    }
    this.hash = h;
  }

  static RequestKey of(InferenceRequest request) {
    ServedModel served = request.model();
    return of(served.name(), served.version(), served.loadStamp(), request.inputs(), request.outputs());
  }

  /** @param load tells loads of one version apart ({@link ServedModel#loadStamp()}) */
  public static RequestKey of(String model, long version, long load, Map<String, Tensor> requestInputs,
      List<String> outputs) {
    List<Input> inputs = new ArrayList<>(requestInputs.size());
    for (Map.Entry<String, Tensor> e : new TreeMap<>(requestInputs).entrySet()) {
      Tensor t = e.getValue();
      inputs.add(t.dataType() == DataType.BYTES
          ? new Input(e.getKey(), t.dataType(), t.shape(), null, t.elements())
          : new Input(e.getKey(), t.dataType(), t.shape(), t.data(), null));
    }
    return new RequestKey(model, version, load, List.copyOf(outputs), inputs);
  }

  /** The same key over copies of the inputs, independent of the request's memory. */
  RequestKey copy() {
    List<Input> copies = new ArrayList<>(inputs.size());
    for (Input i : inputs) {
      copies.add(i.copy());
    }
    return new RequestKey(model, version, load, outputs, copies);
  }

  /** The bytes of input contents the key holds. */
  long bytes() {
    long n = 0;
    for (Input i : inputs) {
      n += i.bytes();
    }
    return n;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RequestKey k && hash == k.hash && version == k.version && load == k.load
        && model.equals(k.model)
        && outputs.equals(k.outputs) && inputs.equals(k.inputs);
  }

  @Override
  public int hashCode() {
    return hash;
  }

  /** One input; {@code data} for fixed-size types (read-only, position 0), {@code elements} for BYTES. */
  private record Input(String name, DataType dataType, long[] shape, ByteBuffer data, List<byte[]> elements) {
    Input copy() {
      return data == null ? new Input(name, dataType, shape, null, HeapCopies.of(elements))
          : new Input(name, dataType, shape, HeapCopies.of(data), null);
    }

    long bytes() {
      return HeapCopies.bytes(data, elements);
    }

    int hash() {
      int h = Objects.hash(name, dataType) * 31 + Arrays.hashCode(shape);
      if (data == null) {
        for (byte[] e : elements) {
          h = 31 * h + Arrays.hashCode(e);
        }
        return h;
      }
      // 32 bytes a step over four independent lanes, so the multiplications overlap: a request's contents may be
      // megabytes, hashed on every lookup. Equality is checked in full, so the hash only has to spread keys.
      ByteBuffer d = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
      long a = h;
      long b = 1;
      long c = 2;
      long e = 3;
      int i = d.position();
      int end = d.limit();
      for (; i + 4 * Long.BYTES <= end; i += 4 * Long.BYTES) {
        a = (a ^ d.getLong(i)) * MIX;
        b = (b ^ d.getLong(i + 8)) * MIX;
        c = (c ^ d.getLong(i + 16)) * MIX;
        e = (e ^ d.getLong(i + 24)) * MIX;
      }
      for (; i < end; i++) {
        a = (a ^ d.get(i)) * MIX;
      }
      long acc = ((a * 31 + b) * 31 + c) * 31 + e;
      acc = (acc ^ (acc >>> 29)) * MIX;
      return (int) (acc ^ (acc >>> 32));
    }

    @Override
    public boolean equals(Object o) {
      if (!(o instanceof Input i) || !name.equals(i.name) || dataType != i.dataType || !Arrays.equals(shape, i.shape)) {
        return false;
      }
      if (data == null) {
        if (i.elements == null || elements.size() != i.elements.size()) {
          return false;
        }
        for (int k = 0; k < elements.size(); k++) {
          if (!Arrays.equals(elements.get(k), i.elements.get(k))) {
            return false;
          }
        }
        return true;
      }
      return data.equals(i.data);
    }

    @Override
    public int hashCode() {
      return hash();
    }
  }
}
