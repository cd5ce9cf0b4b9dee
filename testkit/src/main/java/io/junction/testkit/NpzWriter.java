package io.junction.testkit;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** Writes .npz files as numpy does (format 1.0 headers, padded to 64 bytes): golden files for tests. */
public final class NpzWriter {
  private final Map<String, byte[]> arrays = new LinkedHashMap<>();

  /** {@code descr} as numpy writes it ({@code <f4}, {@code |b1}, {@code <U5} ...); {@code data} as in the file. */
  public NpzWriter array(String key, String descr, long[] shape, boolean fortranOrder, byte[] data) {
    StringBuilder dims = new StringBuilder();
    for (long d : shape) {
      dims.append(d).append(", ");
    }
    String shapeText = shape.length == 1 ? "(" + shape[0] + ",)"
        : "(" + (dims.length() > 0 ? dims.substring(0, dims.length() - 2) : "") + ")";
    StringBuilder header = new StringBuilder("{'descr': '" + descr + "', 'fortran_order': "
        + (fortranOrder ? "True" : "False") + ", 'shape': " + shapeText + ", }");
    while ((10 + header.length() + 1) % 64 != 0) {
      header.append(' ');
    }
    header.append('\n');
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
    out.writeBytes(ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN).putShort((short) header.length()).array());
    out.writeBytes(header.toString().getBytes(StandardCharsets.US_ASCII));
    out.writeBytes(data);
    arrays.put(key + ".npy", out.toByteArray());
    return this;
  }

  public NpzWriter floats(String key, long[] shape, float... values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      b.putFloat(v);
    }
    return array(key, "<f4", shape, false, b.array());
  }

  public NpzWriter scalar(String key, double value) {
    return array(key, "<f8", new long[0], false,
        ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putDouble(value).array());
  }

  /** As {@code np.savez} (stored) or {@code np.savez_compressed} (deflated). */
  public Path write(Path file, boolean compressed) throws IOException {
    try (OutputStream raw = Files.newOutputStream(file); ZipOutputStream zip = new ZipOutputStream(raw)) {
      for (Map.Entry<String, byte[]> e : arrays.entrySet()) {
        ZipEntry entry = new ZipEntry(e.getKey());
        if (!compressed) {
          entry.setMethod(ZipEntry.STORED);
          entry.setSize(e.getValue().length);
          CRC32 crc = new CRC32();
          crc.update(e.getValue());
          entry.setCrc(crc.getValue());
        }
        zip.putNextEntry(entry);
        zip.write(e.getValue());
        zip.closeEntry();
      }
    }
    return file;
  }
}
