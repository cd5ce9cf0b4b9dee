package io.junction.server.inference;

import static org.assertj.core.api.Assertions.assertThat;

import io.junction.server.tensor.DataType;
import io.junction.server.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Keys whose hashes collide, as large inputs that differ only between the hash's samples do, and as a client could
 * make them on purpose: they stay apart and each finds its own answer.
 */
class RequestKeyTest {
  /** 16 KiB: hashed by its ends and 64 windows, of which this offset is in none. */
  private static final int SIZE = 16 * 1024;
  private static final int UNSAMPLED = 2150;

  @Test
  void inputsThatDifferOnlyBetweenTheSamplesCollideAndStayApart() {
    RequestKey a = key(contents(0));
    RequestKey b = key(contents(1));
    assertThat(a.hashCode()).as("the difference is outside the hash's samples").isEqualTo(b.hashCode());
    assertThat(a).isNotEqualTo(b);
    assertThat(a.compareTo(b)).isNotZero();
    assertThat(Integer.signum(a.compareTo(b))).as("an order both ways").isEqualTo(-Integer.signum(b.compareTo(a)));
    assertThat(key(contents(1))).isEqualTo(b).isEqualByComparingTo(b);
  }

  @Test
  void aBinOfThousandsOfCollidingKeysAnswersEachWithItsOwn() {
    ResponseCache cache = new ResponseCache(256L << 20);
    int keys = 2000;
    for (int i = 0; i < keys; i++) {
      cache.store(key(contents(i)), List.of(answer(i)));
    }
    for (int i = 0; i < keys; i++) {
      List<Tensor> hit = cache.lookup(key(contents(i)));
      assertThat(hit).as("key %d", i).isNotNull();
      assertThat(hit.get(0).data().getFloat(0)).as("key %d's answer", i).isEqualTo(i);
    }
    assertThat(cache.lookup(key(contents(keys)))).isNull();
  }

  private static RequestKey key(ByteBuffer contents) {
    Tensor x = Tensor.fixed("x", DataType.FP32, new long[] {1, SIZE / 4}, contents);
    return RequestKey.of("m", 1, 0, Map.of("x", x), List.of("y"));
  }

  /** The same bytes everywhere but two, which hold {@code n}. */
  private static ByteBuffer contents(int n) {
    ByteBuffer b = ByteBuffer.allocateDirect(SIZE).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < SIZE; i++) {
      b.put(i, (byte) (i * 31));
    }
    b.putShort(UNSAMPLED, (short) n);
    return b;
  }

  private static Tensor answer(int n) {
    ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(0, n);
    return Tensor.fixed("y", DataType.FP32, new long[] {1, 1}, b);
  }
}
