package io.junction.server.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ShapesTest {
  @Test
  void fillSizesTheOneDynamicDimensionFromTheElementCount() {
    assertThat(Shapes.fill(new long[] {-1, 3}, 12)).containsExactly(4, 3);
    assertThat(Shapes.fill(new long[] {2, -1, 2}, 12)).containsExactly(2, 3, 2);
    assertThat(Shapes.fill(new long[] {-1}, 0)).containsExactly(0);
    assertThat(Shapes.fill(new long[] {0, -1}, 0)).containsExactly(0, 0);
  }

  @Test
  void fillTakesAFixedShapeOnlyForItsOwnElementCount() {
    assertThat(Shapes.fill(new long[] {2, 3}, 6)).containsExactly(2, 3);
    assertThat(Shapes.fill(new long[] {}, 1)).isEmpty();
    assertThat(Shapes.fill(new long[] {2, 3}, 7)).isNull();
    assertThat(Shapes.fill(new long[] {}, 2)).isNull();
  }

  @Test
  void fillRefusesCountsTheShapeCannotHold() {
    assertThat(Shapes.fill(new long[] {-1, 3}, 7)).isNull();
    assertThat(Shapes.fill(new long[] {0, -1}, 5)).isNull();
    assertThatThrownBy(() -> Shapes.fill(new long[] {-1, -1}, 4)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void elementCountOfARowSkipsTheLeadingDimensions() {
    assertThat(Shapes.elementCount(new long[] {5, 3, 4}, 1)).isEqualTo(12);
    assertThat(Shapes.elementCount(new long[] {5, 3, 4}, 0)).isEqualTo(60);
    assertThat(Shapes.elementCount(new long[] {5}, 1)).as("a row of a batched vector is one element").isEqualTo(1);
    assertThatThrownBy(() -> Shapes.elementCount(new long[] {1, Long.MAX_VALUE, 2}, 1))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("more elements than a long holds");
  }
}
