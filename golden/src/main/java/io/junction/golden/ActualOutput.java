package io.junction.golden;

import java.util.List;

/**
 * One output of a model's answer, as a comparison reads it: numbers as doubles, or BYTES as strings.
 * Whoever received the answer (a client over gRPC, the server from its backend) converts it to this.
 */
public record ActualOutput(String name, long[] shape, double[] values, List<String> strings) {
  public ActualOutput {
    shape = shape.clone();
    strings = List.copyOf(strings);
  }

  public static ActualOutput numbers(String name, long[] shape, double[] values) {
    return new ActualOutput(name, shape, values, List.of());
  }

  public static ActualOutput strings(String name, long[] shape, List<String> strings) {
    return new ActualOutput(name, shape, new double[0], strings);
  }

  /** An output in raw form (as {@link GoldenTensor}). */
  public static ActualOutput of(GoldenTensor raw) {
    return raw.isBytes() ? strings(raw.name(), raw.shape(), raw.strings())
        : numbers(raw.name(), raw.shape(), raw.numbers());
  }
}
