package io.junction.loadtest.check;

import io.junction.proto.inference.InferTensorContents;
import io.junction.proto.inference.ModelInferResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/** Compares an answer with a golden case: what passed, and for what failed, where and by how much. */
public final class GoldenComparison {
  /** One output's verdict; {@code detail} says the largest deviation, or why it failed. */
  public record OutputVerdict(String output, boolean passed, String detail) {}

  private GoldenComparison() {}

  public static List<OutputVerdict> compare(GoldenCase golden, ModelInferResponse answer) {
    List<OutputVerdict> verdicts = new ArrayList<>();
    for (GoldenCase.ExpectedOutput expected : golden.expected()) {
      int index = indexOf(answer, expected.name());
      if (index < 0) {
        verdicts.add(new OutputVerdict(expected.name(), false, "the answer has no output " + expected.name()));
        continue;
      }
      ModelInferResponse.InferOutputTensor tensor = answer.getOutputs(index);
      if (!expected.strings().isEmpty()) {
        verdicts.add(strings(expected, tensor, answer, index));
        continue;
      }
      double[] actual = numbers(tensor, answer.getRawOutputContentsCount() > index ? answer.getRawOutputContents(index)
          : null);
      if (actual.length != expected.values().length) {
        verdicts.add(new OutputVerdict(expected.name(), false, "has " + actual.length + " elements, expected "
            + expected.values().length));
      } else if (expected.topK() > 0) {
        verdicts.add(topK(expected, tensor.getShapeList(), actual));
      } else {
        verdicts.add(close(expected, actual));
      }
    }
    return verdicts;
  }

  private static OutputVerdict close(GoldenCase.ExpectedOutput expected, double[] actual) {
    double[] e = expected.values();
    int worst = -1;
    double worstExcess = Double.NEGATIVE_INFINITY;
    double maxAbs = 0;
    for (int i = 0; i < e.length; i++) {
      double diff = Math.abs(actual[i] - e[i]);
      if (Double.isNaN(actual[i]) != Double.isNaN(e[i])) {
        diff = Double.POSITIVE_INFINITY;
      } else if (Double.isNaN(e[i])) {
        diff = 0;
      }
      maxAbs = Math.max(maxAbs, diff);
      double excess = diff - (expected.absolute() + expected.relative() * Math.abs(e[i]));
      if (excess > worstExcess) {
        worstExcess = excess;
        worst = i;
      }
    }
    boolean passed = worstExcess <= 0;
    String detail = e.length == 0 ? "empty" : String.format(java.util.Locale.ROOT,
        "largest deviation %.3g (element %d: %.6g, expected %.6g; allowed %.3g)", Math.abs(actual[worst] - e[worst]),
        worst, actual[worst], e[worst], expected.absolute() + expected.relative() * Math.abs(e[worst]));
    return new OutputVerdict(expected.name(), passed, passed ? "max |diff| " + String.format(java.util.Locale.ROOT,
        "%.3g", maxAbs) : detail);
  }

  /** Row by row along the last dimension: the same k best classes (as sets). */
  private static OutputVerdict topK(GoldenCase.ExpectedOutput expected, List<Long> shape, double[] actual) {
    int classes = shape.isEmpty() ? actual.length : (int) (long) shape.get(shape.size() - 1);
    int k = Math.min(expected.topK(), classes);
    for (int row = 0; row * classes < actual.length; row++) {
      java.util.Set<Integer> want = top(expected.values(), row * classes, classes, k);
      java.util.Set<Integer> got = top(actual, row * classes, classes, k);
      if (!want.equals(got)) {
        return new OutputVerdict(expected.name(), false, "row " + row + ": top-" + k + " classes " + got
            + ", expected " + want);
      }
    }
    return new OutputVerdict(expected.name(), true, "top-" + k + " classes agree on every row");
  }

  private static java.util.Set<Integer> top(double[] scores, int from, int n, int k) {
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      order.add(i);
    }
    order.sort((a, b) -> Double.compare(scores[from + b], scores[from + a]));
    return new java.util.TreeSet<>(order.subList(0, k));
  }

  private static OutputVerdict strings(GoldenCase.ExpectedOutput expected, ModelInferResponse.InferOutputTensor tensor,
      ModelInferResponse answer, int index) {
    List<String> actual = new ArrayList<>();
    if (answer.getRawOutputContentsCount() > index) {
      ByteBuffer b = answer.getRawOutputContents(index).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
      while (b.remaining() >= 4) {
        byte[] s = new byte[b.getInt()];
        b.get(s);
        actual.add(new String(s, java.nio.charset.StandardCharsets.UTF_8));
      }
    } else {
      tensor.getContents().getBytesContentsList().forEach(s -> actual.add(s.toStringUtf8()));
    }
    for (int i = 0; i < Math.max(actual.size(), expected.strings().size()); i++) {
      String a = i < actual.size() ? actual.get(i) : null;
      String e = i < expected.strings().size() ? expected.strings().get(i) : null;
      if (!java.util.Objects.equals(a, e)) {
        return new OutputVerdict(expected.name(), false, "element " + i + ": \"" + a + "\", expected \"" + e + "\"");
      }
    }
    return new OutputVerdict(expected.name(), true, "equal");
  }

  private static int indexOf(ModelInferResponse answer, String name) {
    for (int i = 0; i < answer.getOutputsCount(); i++) {
      if (answer.getOutputs(i).getName().equals(name)) {
        return i;
      }
    }
    return -1;
  }

  /** IEEE 754 half precision to float (Float.float16ToFloat is Java 20). */
  private static float half(short bits) {
    int sign = (bits & 0x8000) << 16;
    int exponent = (bits >> 10) & 0x1f;
    int mantissa = bits & 0x3ff;
    if (exponent == 0x1f) {
      return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13));
    }
    if (exponent == 0) {
      float value = mantissa / 1024f / 16384f; // subnormal: mantissa * 2^-24
      return sign == 0 ? value : -value;
    }
    return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
  }

  /** An output's elements as doubles, from raw contents (little-endian) or typed contents. */
  static double[] numbers(ModelInferResponse.InferOutputTensor tensor, com.google.protobuf.ByteString raw) {
    String type = tensor.getDatatype();
    if (raw != null) {
      ByteBuffer b = raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
      int size = switch (type) {
        case "BOOL", "INT8", "UINT8" -> 1;
        case "INT16", "UINT16", "FP16", "BF16" -> 2;
        case "INT32", "UINT32", "FP32" -> 4;
        default -> 8;
      };
      double[] out = new double[b.remaining() / size];
      for (int i = 0; i < out.length; i++) {
        out[i] = switch (type) {
          case "BOOL", "INT8" -> b.get();
          case "UINT8" -> b.get() & 0xff;
          case "INT16" -> b.getShort();
          case "UINT16" -> b.getShort() & 0xffff;
          case "FP16" -> half(b.getShort());
          case "BF16" -> Float.intBitsToFloat((b.getShort() & 0xffff) << 16);
          case "INT32" -> b.getInt();
          case "UINT32" -> b.getInt() & 0xffffffffL;
          case "FP32" -> b.getFloat();
          case "FP64" -> b.getDouble();
          default -> b.getLong();
        };
      }
      return out;
    }
    InferTensorContents c = tensor.getContents();
    if (c.getFp32ContentsCount() > 0) {
      return c.getFp32ContentsList().stream().mapToDouble(Float::doubleValue).toArray();
    }
    if (c.getFp64ContentsCount() > 0) {
      return c.getFp64ContentsList().stream().mapToDouble(Double::doubleValue).toArray();
    }
    if (c.getIntContentsCount() > 0) {
      return c.getIntContentsList().stream().mapToDouble(Integer::doubleValue).toArray();
    }
    if (c.getInt64ContentsCount() > 0) {
      return c.getInt64ContentsList().stream().mapToDouble(Long::doubleValue).toArray();
    }
    if (c.getUintContentsCount() > 0) {
      return c.getUintContentsList().stream().mapToDouble(v -> v & 0xffffffffL).toArray();
    }
    if (c.getUint64ContentsCount() > 0) {
      return c.getUint64ContentsList().stream().mapToDouble(Long::doubleValue).toArray();
    }
    return c.getBoolContentsList().stream().mapToDouble(v -> v ? 1 : 0).toArray();
  }
}
