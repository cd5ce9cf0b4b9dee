package io.junction.server.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

class BufferPoolTest {
  @Test
  void aBufferGivenBackIsHandedOutAgainForTheSameSizeClass() {
    BufferPool pool = new BufferPool(1 << 20, 1 << 20);
    ByteBuffer first = pool.acquire(5_000);
    assertThat(first.capacity()).as("rounded up to a power of two").isEqualTo(8192);
    assertThat(first.limit()).isEqualTo(5_000);
    assertThat(first.order()).isEqualTo(ByteOrder.LITTLE_ENDIAN);
    pool.release(first);
    assertThat(pool.idleBytes()).isEqualTo(8192);

    ByteBuffer again = pool.acquire(7_000);
    assertThat(again).isSameAs(first);
    assertThat(again.position()).isZero();
    assertThat(again.limit()).isEqualTo(7_000);
    assertThat(pool.idleBytes()).isZero();
    assertThat(pool.allocations()).isEqualTo(1);
  }

  @Test
  void keepsAtMostItsIdleBoundAndLetsTheRestGo() {
    BufferPool pool = new BufferPool(3 * 4096, 1 << 20);
    ByteBuffer[] held = new ByteBuffer[5];
    for (int i = 0; i < held.length; i++) {
      held[i] = pool.acquire(4096);
    }
    for (ByteBuffer b : held) {
      pool.release(b);
    }
    assertThat(pool.idleBytes()).as("three of five kept").isEqualTo(3 * 4096);
    for (int i = 0; i < 3; i++) {
      pool.acquire(4096);
    }
    assertThat(pool.allocations()).as("the three kept were reused").isEqualTo(5);
    pool.acquire(4096);
    assertThat(pool.allocations()).as("the two let go were not").isEqualTo(6);
  }

  @Test
  void buffersAboveTheLargestPooledSizeAreNeverKept() {
    BufferPool pool = new BufferPool(1 << 24, 1 << 16);
    ByteBuffer big = pool.acquire((1 << 16) + 1);
    assertThat(big.capacity()).as("allocated at its own size").isEqualTo((1 << 16) + 1);
    pool.release(big);
    assertThat(pool.idleBytes()).isZero();
    pool.release(ByteBuffer.allocateDirect(1 << 17));
    assertThat(pool.idleBytes()).as("a power of two above the bound").isZero();
  }
}
