package io.junction.server.inference;

import static org.assertj.core.api.Assertions.assertThat;

import io.junction.server.tensor.DataType;
import io.junction.server.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The classes of an output as Triton's classification extension gives them, for shapes a served model cannot show. */
class OutputClassificationTest {
  @Test
  void theSpecsExampleAnswersAsTheSpecSays() {
    Tensor scores = Tensor.fixed("output0", DataType.FP32, new long[] {4}, floats(1.1f, 3.3f, 0.5f, 2.4f));
    Tensor classes = OutputClassification.classes(scores, 2, false, List.of("apple", "pickle"));
    assertThat(classes.shape()).containsExactly(2);
    assertThat(text(classes)).as("labels where the file has a line").containsExactly("3.3:1:pickle", "2.4:3");
  }

  @Test
  void integersTieByIndexAndMoreClassesThanThereAreGiveThemAll() {
    ByteBuffer ints = ByteBuffer.allocate(2 * 3 * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int v : new int[] {7, 9, 7, -1, 5, 5}) {
      ints.putInt(v);
    }
    ints.flip();
    Tensor classes = OutputClassification.classes(Tensor.fixed("o", DataType.INT32, new long[] {2, 3}, ints), 9, true, List.of());
    assertThat(classes.shape()).containsExactly(2, 3);
    assertThat(text(classes)).containsExactly("9:1", "7:0", "7:2", "5:1", "5:2", "-1:0");
  }

  @Test
  void anEmptyBatchHasNoClasses() {
    Tensor none = Tensor.fixed("o", DataType.FP32, new long[] {0, 5}, ByteBuffer.allocate(0));
    assertThat(OutputClassification.classes(none, 3, true, List.of()).shape()).containsExactly(0, 0);
  }

  private static ByteBuffer floats(float... values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      b.putFloat(v);
    }
    return b.flip();
  }

  private static List<String> text(Tensor t) {
    return t.elements().stream().map(e -> new String(e, StandardCharsets.UTF_8)).toList();
  }
}
