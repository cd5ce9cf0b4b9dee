package io.junction.server.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;

class BufferLeaseTest {
  private final BufferPool pool = new BufferPool(1 << 20, 1 << 20);

  @Test
  void theLastReaderGivesTheBufferBack() {
    ByteBuffer buffer = pool.acquire(10_000);
    BufferLease lease = BufferLease.of(pool, buffer);
    lease.retain();
    lease.release();
    assertThat(lease.returned()).isFalse();
    lease.release();
    assertThat(lease.returned()).isTrue();
    assertThat(pool.acquire(10_000)).as("handed out again").isSameAs(buffer);
    assertThat(pool.allocations()).isEqualTo(1);
  }

  @Test
  void anAbandonedBufferNeverGoesBack() {
    ByteBuffer buffer = pool.acquire(10_000);
    BufferLease lease = BufferLease.of(pool, buffer);
    lease.retain();
    lease.abandon();
    lease.retain(); // a reader after the abandonment (a shadow copy): not counted, nothing breaks
    lease.release();
    lease.release();
    assertThat(lease.returned()).isFalse();
    assertThat(pool.acquire(10_000)).isNotSameAs(buffer);
    assertThat(pool.allocations()).isEqualTo(2);
  }

  @Test
  void aBufferGivenBackCannotBeReadAgain() {
    BufferLease lease = BufferLease.of(pool, pool.acquire(100));
    lease.release();
    assertThatThrownBy(lease::retain).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(lease::release).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void aLeaseOfSeveralBuffersGivesThemAllBackTogether() {
    ByteBuffer first = pool.acquire(70_000);
    ByteBuffer second = pool.acquire(200_000);
    BufferLease lease = BufferLease.of(pool, List.of(first, second));
    lease.retain();
    lease.release();
    assertThat(pool.acquire(70_000)).as("still held by a reader").isNotSameAs(first);
    lease.release();
    assertThat(pool.acquire(200_000)).isSameAs(second);
    assertThat(pool.acquire(70_000)).isSameAs(first);
    assertThat(BufferLease.of(pool, List.of())).as("nothing pooled").isSameAs(BufferLease.none());
  }

  @Test
  void heapMemoryNeedsNoBookkeeping() {
    BufferLease none = BufferLease.none();
    none.retain();
    none.release();
    none.release();
    none.abandon();
    assertThat(none.returned()).isFalse();
  }
}
