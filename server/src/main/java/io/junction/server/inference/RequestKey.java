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
 * input's name, type, shape and contents. Two keys are equal only when all of that is.
 *
 * <p>The hash reads all of a small input but only a sample of a large one (its first and last 2 KiB and 64 windows
 * between), so that a hit reads most of a large request once, to compare it, not twice. Keys whose samples agree
 * share a bin of the cache's hash map, and so would keys crafted to collide: the map keeps such a bin sorted by
 * {@link #compareTo} (the JDK's defence against hash flooding), so a lookup makes a logarithmic number of
 * comparisons however many keys collide, never a scan of them all.
 *
 * <p>A key made for a lookup holds views of the request's inputs ({@link #of}); the key kept in the cache holds
 * copies ({@link #copy}).
 */
public final class RequestKey implements Comparable<RequestKey> {
  /** The golden ratio's odd 64-bit multiplier, a well-known mixing constant. */
  private static final long MIX = 0x9E3779B97F4A7C15L;
  /** Inputs up to this many bytes are hashed whole; larger ones by their ends and {@link #WINDOWS} windows. */
  private static final int HASHED_WHOLE = 8192;
  private static final int END_BYTES = 2048;
  private static final int WINDOWS = 64;
  private static final int WINDOW_BYTES = 64;
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

  boolean isOf(String model) {
    return this.model.equals(model);
  }

  /** Which load of its version the key is of ({@link ServedModel#loadStamp()}). */
  long load() {
    return load;
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
    return o instanceof RequestKey k && hash == k.hash && compareTo(k) == 0;
  }

  @Override
  public int hashCode() {
    return hash;
  }

  /** A total order consistent with {@link #equals}: model, version, load, outputs, then the inputs in name order. */
  @Override
  public int compareTo(RequestKey o) {
    int c = model.compareTo(o.model);
    if (c == 0) {
      c = Long.compare(version, o.version);
    }
    if (c == 0) {
      c = Long.compare(load, o.load);
    }
    if (c == 0) {
      c = Integer.compare(outputs.size(), o.outputs.size());
    }
    for (int i = 0; c == 0 && i < outputs.size(); i++) {
      c = outputs.get(i).compareTo(o.outputs.get(i));
    }
    if (c == 0) {
      c = Integer.compare(inputs.size(), o.inputs.size());
    }
    for (int i = 0; c == 0 && i < inputs.size(); i++) {
      c = inputs.get(i).compareTo(o.inputs.get(i));
    }
    return c;
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
      // The type by its ordinal, not its (identity) hash code: the same request hashes alike in every run.
      long acc = (Objects.hash(name, dataType.ordinal()) * 31L + Arrays.hashCode(shape)) * MIX;
      if (data == null) {
        for (byte[] e : elements) {
          acc = hashContents(acc, ByteBuffer.wrap(e));
        }
      } else {
        acc = hashContents(acc, data);
      }
      acc = (acc ^ (acc >>> 29)) * MIX;
      return (int) (acc ^ (acc >>> 32));
    }

    /** A small buffer's bytes all, a large one's ends and windows between (see the class). */
    private static long hashContents(long seed, ByteBuffer contents) {
      ByteBuffer d = contents.duplicate().order(ByteOrder.LITTLE_ENDIAN);
      int start = d.position();
      int n = d.remaining();
      long acc = seed * MIX + n;
      if (n <= HASHED_WHOLE) {
        return hashRange(acc, d, start, start + n);
      }
      acc = hashRange(acc, d, start, start + END_BYTES);
      acc = hashRange(acc, d, start + n - END_BYTES, start + n);
      long stride = (n - 2L * END_BYTES - WINDOW_BYTES) / (WINDOWS - 1);
      for (int k = 0; k < WINDOWS; k++) {
        int from = start + END_BYTES + (int) (k * stride);
        acc = hashRange(acc, d, from, from + WINDOW_BYTES);
      }
      return acc;
    }

    /** 32 bytes a step over four independent lanes, so the multiplications overlap. */
    private static long hashRange(long seed, ByteBuffer d, int from, int to) {
      long a = seed;
      long b = 1;
      long c = 2;
      long e = 3;
      int i = from;
      for (; i + 4 * Long.BYTES <= to; i += 4 * Long.BYTES) {
        a = (a ^ d.getLong(i)) * MIX;
        b = (b ^ d.getLong(i + 8)) * MIX;
        c = (c ^ d.getLong(i + 16)) * MIX;
        e = (e ^ d.getLong(i + 24)) * MIX;
      }
      for (; i < to; i++) {
        a = (a ^ d.get(i)) * MIX;
      }
      return ((a * 31 + b) * 31 + c) * 31 + e;
    }

    /** Name, type, shape, then contents: bytes as ByteBuffer orders them, elements one by one. */
    int compareTo(Input o) {
      int c = name.compareTo(o.name);
      if (c == 0) {
        c = dataType.compareTo(o.dataType);
      }
      if (c == 0) {
        c = Arrays.compare(shape, o.shape);
      }
      if (c != 0) {
        return c;
      }
      if (data != null) {
        return data.compareTo(o.data);
      }
      c = Integer.compare(elements.size(), o.elements.size());
      for (int k = 0; c == 0 && k < elements.size(); k++) {
        c = Arrays.compare(elements.get(k), o.elements.get(k));
      }
      return c;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Input i && compareTo(i) == 0;
    }

    @Override
    public int hashCode() {
      return hash();
    }
  }
}
