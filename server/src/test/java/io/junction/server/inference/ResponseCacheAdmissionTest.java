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
 * A cache with room keeps every answer; a full one keeps the answer to a large request from the second miss of the
 * request, so that a request seen once costs it no copies and evicts nothing, and a small one from its first.
 */
class ResponseCacheAdmissionTest {
  /** Each entry: 16 KiB of input (the smallest request kept from its second miss), 16 bytes of output. */
  private static final int INPUT_FLOATS = (int) ResponseCache.SECOND_MISS_REQUEST_BYTES / 4;
  private static final Tensor OUTPUT = Tensor.fixed("y", DataType.FP32, new long[] {1, 4}, floats(4, 0));

  private final ResponseCache cache = new ResponseCache(256 * 1024);

  @Test
  void aCacheWithRoomKeepsAnAnswerFromItsFirstMiss() {
    cache.store(key(1), List.of(OUTPUT));
    assertThat(cache.lookup(key(1))).isNotNull();
  }

  @Test
  void aFullCacheKeepsAnAnswerFromTheSecondMissOfItsRequest() {
    int declined = fill();
    assertThat(cache.entries()).as("answers kept before the cache was full").isEqualTo(declined - 1)
        .isGreaterThan(10);
    assertThat(cache.evictions()).as("nothing evicted for the request missed once").isZero();
    assertThat(cache.deferred()).as("answers not kept, counted").isEqualTo(1);

    cache.store(key(declined), List.of(OUTPUT));
    assertThat(cache.lookup(key(declined))).as("the same request, missed again").isNotNull();
    assertThat(cache.bytes()).as("the cache keeps to its size").isLessThanOrEqualTo(cache.maxBytes());
    assertThat(cache.evictions()).as("room made for it").isPositive();
  }

  @Test
  void requestsMissedOnceDoNotStandInEachOthersWay() {
    fill();
    for (int i = 0; i < 100; i++) {
      cache.store(key(2000 + i), List.of(OUTPUT));
    }
    assertThat(cache.evictions()).as("evicted for 100 requests each missed once").isZero();
    for (int i = 0; i < 100; i++) {
      cache.store(key(2000 + i), List.of(OUTPUT));
    }
    int kept = 0;
    for (int i = 0; i < 100; i++) {
      kept += cache.lookup(key(2000 + i)) == null ? 0 : 1;
    }
    assertThat(kept).as("of 100 requests each missed twice, those the cache holds now").isPositive();
    assertThat(cache.evictions()).as("each admitted on its second miss").isGreaterThanOrEqualTo(90);
  }

  /** Stores answers to new requests until the cache keeps one no more; that request's seed. */
  private int fill() {
    int seed = 0;
    do {
      seed++;
      cache.store(key(seed), List.of(OUTPUT));
    } while (cache.lookup(key(seed)) != null && seed < 1000);
    assertThat(seed).as("the cache filled").isLessThan(1000);
    return seed;
  }

  @Test
  void aFullCacheKeepsTheAnswerToASmallRequestFromItsFirstMiss() {
    fill();
    RequestKey small = key(3000, INPUT_FLOATS / 4 - 1);
    cache.store(small, List.of(OUTPUT));
    assertThat(cache.lookup(small)).as("a request under 16 KiB, missed once by a full cache").isNotNull();
  }

  private static RequestKey key(int seed) {
    return key(seed, INPUT_FLOATS);
  }

  private static RequestKey key(int seed, int floats) {
    Tensor x = Tensor.fixed("x", DataType.FP32, new long[] {1, floats}, floats(floats, seed));
    return RequestKey.of("m", 1, 0, Map.of("x", x), List.of("y"));
  }

  private static ByteBuffer floats(int n, int seed) {
    ByteBuffer b = ByteBuffer.allocateDirect(n * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      b.putFloat(seed * 10_000f + i);
    }
    return b.flip();
  }
}
