package io.junction.golden;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads one array in numpy's {@code .npy} format (versions 1 to 3) into a {@link GoldenTensor}: the
 * header's dtype, order and shape, then the elements. Booleans, integers, floats (half, single, double)
 * and fixed-width strings ({@code S}, {@code U}) are read, either byte order, C or Fortran order. Object
 * arrays are refused: reading them means unpickling, which runs code the file chooses.
 */
final class NpyArray {
  private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
  private static final int MAX_HEADER = 64 << 10;
  private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([<>|=])([a-zA-Z])(\\d+)'");
  private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
  private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

  private NpyArray() {}

  /**
   * @param budget bytes the elements may take at most; checked against the header's claim before
   *     anything is allocated
   */
  static GoldenTensor read(String name, InputStream in, long budget) throws IOException {
    byte[] magic = in.readNBytes(8);
    if (magic.length < 8 || !Arrays.equals(Arrays.copyOf(magic, 6), MAGIC)) {
      throw new IllegalArgumentException("array '" + name + "' is not in .npy format");
    }
    int major = magic[6];
    byte[] lengthBytes = in.readNBytes(major == 1 ? 2 : 4);
    ByteBuffer lb = ByteBuffer.wrap(Arrays.copyOf(lengthBytes, 4)).order(ByteOrder.LITTLE_ENDIAN);
    long headerLength = Integer.toUnsignedLong(lb.getInt());
    if (major < 1 || major > 3 || headerLength > MAX_HEADER) {
      throw new IllegalArgumentException("array '" + name + "': unsupported .npy version " + major + " or header of "
          + headerLength + " bytes");
    }
    String header = new String(in.readNBytes((int) headerLength), StandardCharsets.UTF_8);
    Matcher descr = DESCR.matcher(header);
    Matcher fortran = FORTRAN.matcher(header);
    Matcher shapeText = SHAPE.matcher(header);
    if (!shapeText.find() || !fortran.find()) {
      throw new IllegalArgumentException("array '" + name + "': cannot read the .npy header " + header.strip());
    }
    if (!descr.find()) {
      throw new IllegalArgumentException("array '" + name + "' has dtype " + dtypeOf(header) + ", which golden files "
          + "cannot hold: use bool, integers, float16/32/64, or fixed-width strings (dtype 'S' or 'U'); object "
          + "arrays would need unpickling, which is never done");
    }
    long[] shape = shape(name, shapeText.group(1));
    char order = descr.group(1).charAt(0);
    char kind = descr.group(2).charAt(0);
    int width = Integer.parseInt(descr.group(3));
    String datatype = datatype(name, kind, width);
    int itemSize = kind == 'U' ? 4 * width : width; // 'U' counts characters of UTF-32
    long count = GoldenTensor.elementCount(name, shape);
    long limit = Math.min(budget, Integer.MAX_VALUE - 8);
    if (itemSize <= 0 || count > limit / itemSize) {
      throw new IllegalArgumentException("array '" + name + "' claims " + count + " elements of " + itemSize
          + " bytes, more than the " + budget + " bytes a golden file may hold");
    }
    byte[] data = in.readNBytes((int) (count * itemSize));
    if (data.length != count * itemSize) {
      throw new IllegalArgumentException("array '" + name + "' is truncated: " + data.length + " of " + count * itemSize
          + " bytes");
    }
    if (fortran.group(1).equals("True") && shape.length > 1) {
      data = toRowMajor(data, shape, itemSize);
    }
    if (kind == 'S' || kind == 'U') {
      return GoldenTensor.ofStrings(name, shape, strings(data, kind, itemSize, order == '>'));
    }
    if (order == '>' && itemSize > 1) {
      swapBytes(data, itemSize);
    }
    return GoldenTensor.of(name, datatype, shape, data);
  }

  private static String dtypeOf(String header) {
    Matcher m = Pattern.compile("'descr'\\s*:\\s*([^,]*)").matcher(header);
    return m.find() ? m.group(1).strip() : "(none)";
  }

  private static long[] shape(String name, String text) {
    List<Long> dims = new ArrayList<>();
    for (String d : text.split(",")) {
      if (!d.isBlank()) {
        try {
          dims.add(Long.parseLong(d.strip().replaceAll("L$", "")));
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("array '" + name + "' has an unreadable shape (" + text + ")");
        }
      }
    }
    return dims.stream().mapToLong(Long::longValue).toArray();
  }

  private static String datatype(String name, char kind, int size) {
    String type = switch (kind) {
      case 'b' -> size == 1 ? "BOOL" : null;
      case 'i' -> size == 1 ? "INT8" : size == 2 ? "INT16" : size == 4 ? "INT32" : size == 8 ? "INT64" : null;
      case 'u' -> size == 1 ? "UINT8" : size == 2 ? "UINT16" : size == 4 ? "UINT32" : size == 8 ? "UINT64" : null;
      case 'f' -> size == 2 ? "FP16" : size == 4 ? "FP32" : size == 8 ? "FP64" : null;
      case 'S', 'U' -> "BYTES";
      default -> null;
    };
    if (type == null) {
      throw new IllegalArgumentException("array '" + name + "' has dtype '" + kind + size + "', which golden files cannot "
          + "hold: use bool, integers, float16/32/64, or fixed-width strings (dtype 'S' or 'U')");
    }
    return type;
  }

  /** Fixed-width strings without their NUL padding, as UTF-8 ('U' is UTF-32 in the file). */
  private static List<byte[]> strings(byte[] data, char kind, int itemSize, boolean bigEndian) {
    List<byte[]> out = new ArrayList<>();
    for (int at = 0; at < data.length; at += itemSize) {
      if (kind == 'S') {
        int end = at + itemSize;
        while (end > at && data[end - 1] == 0) {
          end--;
        }
        out.add(Arrays.copyOfRange(data, at, end));
      } else {
        ByteBuffer b = ByteBuffer.wrap(data, at, itemSize).order(bigEndian ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
        StringBuilder s = new StringBuilder();
        while (b.remaining() >= 4) {
          int codePoint = b.getInt();
          if (codePoint == 0) {
            break;
          }
          s.appendCodePoint(codePoint);
        }
        out.add(s.toString().getBytes(StandardCharsets.UTF_8));
      }
    }
    return out;
  }

  private static void swapBytes(byte[] data, int itemSize) {
    for (int at = 0; at < data.length; at += itemSize) {
      for (int i = 0, j = itemSize - 1; i < j; i++, j--) {
        byte t = data[at + i];
        data[at + i] = data[at + j];
        data[at + j] = t;
      }
    }
  }

  /** Fortran (column-major) order to C (row-major) order, item by item. */
  private static byte[] toRowMajor(byte[] data, long[] shape, int itemSize) {
    int rank = shape.length;
    long[] columnStride = new long[rank];
    long stride = 1;
    for (int d = 0; d < rank; d++) {
      columnStride[d] = stride;
      stride *= shape[d];
    }
    byte[] out = new byte[data.length];
    long[] index = new long[rank];
    int count = data.length / itemSize;
    for (int row = 0; row < count; row++) {
      long from = 0;
      for (int d = 0; d < rank; d++) {
        from += index[d] * columnStride[d];
      }
      System.arraycopy(data, (int) from * itemSize, out, row * itemSize, itemSize);
      for (int d = rank - 1; d >= 0 && ++index[d] == shape[d]; d--) {
        index[d] = 0;
      }
    }
    return out;
  }
}
