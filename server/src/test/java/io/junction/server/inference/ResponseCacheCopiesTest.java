package io.junction.server.inference;

import static org.assertj.core.api.Assertions.assertThat;

import io.junction.server.tensor.DataType;
import io.junction.server.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * What the cache keeps must not change when the memory it was given does: requests' inputs and answers' outputs
 * live in pooled buffers that the next request overwrites once a call is done.
 */
class ResponseCacheCopiesTest {
  private final ResponseCache cache = new ResponseCache(1 << 20);

  @Test
  void keysAndAnswersAreCopiesOfTheMemoryTheyCameFrom() {
    ByteBuffer pooled = floats(1, 2, 3, 4);
    ByteBuffer output = floats(10, 20);
    cache.store(key(pooled), List.of(Tensor.fixed("y", DataType.FP32, new long[] {1, 2}, output)));

    ByteBuffer sameContents = floats(1, 2, 3, 4);
    pooled.putFloat(0, 99); // the pool hands the request's buffer to the next request
    output.putFloat(0, 99); // and the answer's
    assertThat(cache.lookup(key(pooled))).as("the next request's contents are not the cached one's").isNull();
    List<Tensor> hit = cache.lookup(key(sameContents));
    assertThat(hit).as("the cached request, asked again").hasSize(1);
    assertThat(hit.get(0).shape()).containsExactly(1, 2);
    assertThat(hit.get(0).data().getFloat(0)).as("the cached answer as it was").isEqualTo(10f);
    assertThat(hit.get(0).data().getFloat(4)).isEqualTo(20f);
  }

  @Test
  void everythingThatDecidesTheAnswerIsPartOfTheKey() {
    cache.store(key(floats(1, 2, 3, 4)), List.of(Tensor.fixed("y", DataType.FP32, new long[] {1, 1}, floats(7))));
    assertThat(cache.lookup(key(floats(1, 2, 3, 4)))).isNotNull();
    assertThat(cache.lookup(RequestKey.of("m", 2, 0, Map.of("x", x(floats(1, 2, 3, 4), 1, 4)), List.of("y"))))
        .as("another version").isNull();
    assertThat(cache.lookup(RequestKey.of("m", 1, 1, Map.of("x", x(floats(1, 2, 3, 4), 1, 4)), List.of("y"))))
        .as("another load of the version").isNull();
    assertThat(cache.lookup(RequestKey.of("m", 1, 0, Map.of("x", x(floats(1, 2, 3, 4), 2, 2)), List.of("y"))))
        .as("another shape of the same bytes").isNull();
    assertThat(cache.lookup(RequestKey.of("m", 1, 0, Map.of("x", x(floats(1, 2, 3, 4), 1, 4)), List.of("z"))))
        .as("another output asked for").isNull();
    assertThat(cache.lookup(RequestKey.of("n", 1, 0, Map.of("x", x(floats(1, 2, 3, 4), 1, 4)), List.of("y"))))
        .as("another model").isNull();
    Tensor text = Tensor.bytes("t", new long[] {1}, List.of("a".getBytes(StandardCharsets.UTF_8)));
    cache.store(RequestKey.of("m", 1, 0, Map.of("t", text), List.of("y")),
        List.of(Tensor.fixed("y", DataType.FP32, new long[] {1, 1}, floats(8))));
    Tensor other = Tensor.bytes("t", new long[] {1}, List.of("b".getBytes(StandardCharsets.UTF_8)));
    assertThat(cache.lookup(RequestKey.of("m", 1, 0, Map.of("t", other), List.of("y")))).isNull();
    assertThat(cache.lookup(RequestKey.of("m", 1, 0, Map.of("t", Tensor.bytes("t", new long[] {1},
        List.of("a".getBytes(StandardCharsets.UTF_8)))), List.of("y")))).isNotNull();
  }

  private static RequestKey key(ByteBuffer contents) {
    return RequestKey.of("m", 1, 0, Map.of("x", x(contents, 1, 4)), List.of("y"));
  }

  private static Tensor x(ByteBuffer contents, long... shape) {
    return Tensor.fixed("x", DataType.FP32, shape, contents);
  }

  private static ByteBuffer floats(float... values) {
    ByteBuffer b = ByteBuffer.allocateDirect(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      b.putFloat(v);
    }
    return b.flip();
  }
}
