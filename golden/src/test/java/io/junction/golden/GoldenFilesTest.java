package io.junction.golden;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.junction.testkit.NpzWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Golden files as numpy and KServe REST users write them, read into the same cases. */
class GoldenFilesTest {
  @TempDir Path dir;

  private static byte[] littleEndian(int elementBytes, long... values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * elementBytes).order(ByteOrder.LITTLE_ENDIAN);
    for (long v : values) {
      switch (elementBytes) {
        case 1 -> b.put((byte) v);
        case 2 -> b.putShort((short) v);
        case 4 -> b.putInt((int) v);
        default -> b.putLong(v);
      }
    }
    return b.array();
  }

  @Test
  void anNpzWithoutCasePrefixesIsOneCaseNamedAfterTheFileWithItsTolerancesAndShapes() throws Exception {
    Path file = new NpzWriter()
        .floats("input.x", new long[] {1, 3}, 1, 2, 3)
        .array("input.ids", "<i8", new long[] {1, 2}, false, littleEndian(8, 7, -9))
        .floats("output.y", new long[] {1, 2}, 0.5f, -0.25f)
        .scalar("atol.y", 1e-3)
        .scalar("rtol.y", 0)
        .write(dir.resolve("golden.npz"), false);

    List<GoldenCase> cases = GoldenFiles.read(file, GoldenFiles.DEFAULT_MAX_BYTES);

    assertThat(cases).hasSize(1);
    GoldenCase c = cases.get(0);
    assertThat(c.name()).isEqualTo("golden");
    assertThat(c.inputs()).extracting(GoldenTensor::toString).containsExactly("x FP32 [1, 3]", "ids INT64 [1, 2]");
    assertThat(c.inputs().get(1).numbers()).containsExactly(7, -9);
    GoldenCase.ExpectedOutput y = c.expected().get(0);
    assertThat(y.values()).containsExactly(0.5, -0.25);
    assertThat(y.shape()).hasValueSatisfying(s -> assertThat(s).containsExactly(1, 2));
    assertThat(y.tolerance()).isEqualTo(new GoldenCase.Tolerance(1e-3, 0, 0));
  }

  @Test
  void caseprefixesMakeSeveralCasesAndCompressedFilesRead() throws Exception {
    Path file = new NpzWriter()
        .floats("cat/input.image", new long[] {1, 2}, 1, 0)
        .floats("cat/output.scores", new long[] {1, 3}, 0.1f, 0.7f, 0.2f)
        .array("cat/top_k.scores", "<i8", new long[0], false, littleEndian(8, 1))
        .floats("dog/input.image", new long[] {1, 2}, 0, 1)
        .floats("dog/output.scores", new long[] {1, 3}, 0.8f, 0.1f, 0.1f)
        .write(dir.resolve("classes.npz"), true);

    List<GoldenCase> cases = GoldenFiles.read(file, GoldenFiles.DEFAULT_MAX_BYTES);

    assertThat(cases).extracting(GoldenCase::name).containsExactly("cat", "dog");
    assertThat(cases.get(0).expected().get(0).tolerance().topK()).isEqualTo(1);
    assertThat(cases.get(1).expected().get(0).tolerance()).isEqualTo(GoldenCase.Tolerance.defaults());
  }

  @Test
  void fortranOrderBigEndianHalvesAndStringsAreReadAsNumpyMeansThem() throws Exception {
    // [[1, 2, 3], [4, 5, 6]] stored column by column: 1 4 2 5 3 6
    byte[] columnMajor = littleEndian(4, 1, 4, 2, 5, 3, 6);
    byte[] bigEndian = ByteBuffer.allocate(8).order(ByteOrder.BIG_ENDIAN).putFloat(1.5f).putFloat(-2f).array();
    byte[] utf32 = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putInt('h').putInt('\u00e9').putInt(0).putInt(0)
        .array();
    Path file = new NpzWriter()
        .array("input.m", "<i4", new long[] {2, 3}, true, columnMajor)
        .array("input.b", ">f4", new long[] {2}, false, bigEndian)
        .array("input.h", "<f2", new long[] {1}, false, littleEndian(2, 0x3c00))
        .array("input.s", "|S3", new long[] {2}, false, "ab\0xyz".getBytes(StandardCharsets.US_ASCII))
        .array("output.u", "<U2", new long[] {2}, false, utf32)
        .write(dir.resolve("kinds.npz"), false);

    GoldenCase c = GoldenFiles.read(file, GoldenFiles.DEFAULT_MAX_BYTES).get(0);

    assertThat(c.inputs().get(0).numbers()).containsExactly(1, 2, 3, 4, 5, 6);
    assertThat(c.inputs().get(1).numbers()).containsExactly(1.5, -2);
    assertThat(c.inputs().get(2).numbers()).containsExactly(1.0);
    assertThat(c.inputs().get(3).strings()).containsExactly("ab", "xyz");
    assertThat(c.expected().get(0).strings()).containsExactly("h\u00e9", "");
  }

  @Test
  void objectArraysAreRefusedWithoutUnpickling() throws Exception {
    Path file = new NpzWriter().array("input.x", "|O", new long[] {1}, false, new byte[] {(byte) 0x80, 4, '.'})
        .floats("output.y", new long[] {1}, 1).write(dir.resolve("pickle.npz"), false);

    assertThatThrownBy(() -> GoldenFiles.read(file, GoldenFiles.DEFAULT_MAX_BYTES))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("pickle.npz: array 'input.x' has dtype '|O'").hasMessageContaining("never done");
  }

  @Test
  void aClaimedSizeBeyondTheBudgetIsRefusedBeforeAnythingIsAllocated() throws Exception {
    Path file = new NpzWriter().array("input.x", "<f8", new long[] {1L << 40, 1L << 10}, false, new byte[8])
        .write(dir.resolve("huge.npz"), true);

    assertThatThrownBy(() -> GoldenFiles.read(file, 1 << 20))
        .hasMessageContaining("huge.npz: array 'input.x' claims 1125899906842624 elements of 8 bytes, more than the "
            + "1048576 bytes");
  }

  @Test
  void truncatedArraysAndStrayNamesAreNamed() throws Exception {
    Path truncated = new NpzWriter().array("input.x", "<f4", new long[] {4}, false, new byte[6])
        .write(dir.resolve("short.npz"), false);
    Path stray = new NpzWriter().floats("inputs_x", new long[] {1}, 1).write(dir.resolve("stray.npz"), false);
    Path orphan = new NpzWriter().floats("input.x", new long[] {1}, 1).floats("output.y", new long[] {1}, 1)
        .scalar("atol.z", 1).write(dir.resolve("orphan.npz"), false);

    assertThatThrownBy(() -> GoldenFiles.read(truncated, GoldenFiles.DEFAULT_MAX_BYTES))
        .hasMessageContaining("array 'input.x' is truncated: 6 of 16 bytes");
    assertThatThrownBy(() -> GoldenFiles.read(stray, GoldenFiles.DEFAULT_MAX_BYTES))
        .hasMessageContaining("array 'inputs_x': name arrays input.<tensor>, output.<tensor>");
    assertThatThrownBy(() -> GoldenFiles.read(orphan, GoldenFiles.DEFAULT_MAX_BYTES))
        .hasMessageContaining("sets tolerances of 'z', which is not one of its outputs [y]");
  }

  @Test
  void jsonLinesTakeRestTensorsIncludingHalvesAndStrings() throws Exception {
    Path file = Files.writeString(dir.resolve("golden.jsonl"), String.join("\n",
        "# comment",
        "{\"name\": \"a\", \"inputs\": [{\"name\": \"x\", \"datatype\": \"FP16\", \"shape\": [1, 2], \"data\": [[1.5, -2]]},"
            + " {\"name\": \"t\", \"datatype\": \"BYTES\", \"shape\": [1], \"data\": [\"hi\"]},"
            + " {\"name\": \"n\", \"datatype\": \"UINT64\", \"shape\": [1], \"data\": [18446744073709551615]}],"
            + " \"outputs\": [{\"name\": \"y\", \"shape\": [2], \"data\": [1, 2], \"atol\": 0.5, \"rtol\": 0},"
            + " {\"name\": \"label\", \"data\": [\"cat\"]}]}",
        ""));

    GoldenCase c = GoldenFiles.read(file, GoldenFiles.DEFAULT_MAX_BYTES).get(0);

    assertThat(c.inputs().get(0).numbers()).containsExactly(1.5, -2);
    assertThat(c.inputs().get(1).strings()).containsExactly("hi");
    assertThat(c.inputs().get(2).data().getLong()).isEqualTo(-1L);
    assertThat(c.inputs().get(2).numbers()[0]).isEqualTo(0x1p64);
    assertThat(c.expected().get(0).tolerance()).isEqualTo(new GoldenCase.Tolerance(0.5, 0, 0));
    assertThat(c.expected().get(1).strings()).containsExactly("cat");
  }

  @Test
  void aJsonLineThatDoesNotMatchItsShapeNamesTheLine() throws Exception {
    Path file = Files.writeString(dir.resolve("bad.jsonl"),
        "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [2, 2], \"data\": [1, 2, 3]}], \"outputs\": []}\n");

    assertThatThrownBy(() -> GoldenFiles.read(file, GoldenFiles.DEFAULT_MAX_BYTES))
        .hasMessage("bad.jsonl: line 1: tensor 'x' of shape [2, 2] needs 16 bytes of FP32, has 12");
  }

  @Test
  void anOversizedFileIsRefusedUnread() throws Exception {
    Path file = Files.write(dir.resolve("big.jsonl"), new byte[4096]);

    assertThatThrownBy(() -> GoldenFiles.read(file, 1024)).hasMessage("big.jsonl is 4096 bytes; golden files may hold 1024");
  }
}
