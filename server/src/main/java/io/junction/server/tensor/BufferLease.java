package io.junction.server.tensor;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Pooled buffers that several readers share: they go back to their {@link BufferPool} when the last of them
 * releases it, or never, once one of them {@linkplain #abandon abandons} it because it cannot tell when it
 * stops reading (then the garbage collector frees it like any buffer).
 *
 * <p>Pooled buffers are ordinary garbage-collected direct buffers, so a reader that forgets to release
 * costs the pool one buffer and nothing else; the one hazard is a buffer handed out again while a reader
 * still reads it. Hence the rule: release only when certainly done; when unsure, abandon.
 */
public final class BufferLease {
  private static final BufferLease NONE = new BufferLease(null, List.of());

  private final BufferPool pool;
  private final List<ByteBuffer> buffers;
  private final AtomicInteger readers = new AtomicInteger(1);
  private volatile boolean abandoned;

  private BufferLease(BufferPool pool, List<ByteBuffer> buffers) {
    this.pool = pool;
    this.buffers = buffers;
  }

  /** Memory nobody pools (the heap): every method does nothing. */
  public static BufferLease none() {
    return NONE;
  }

  /** A lease of {@code buffer}, acquired from {@code pool}, held by one reader: the caller. */
  public static BufferLease of(BufferPool pool, ByteBuffer buffer) {
    return new BufferLease(pool, List.of(buffer));
  }

  /** One lease of several buffers acquired from {@code pool} (a batch's outputs), held by the caller; none when empty. */
  public static BufferLease of(BufferPool pool, List<ByteBuffer> buffers) {
    return buffers.isEmpty() ? NONE : new BufferLease(pool, List.copyOf(buffers));
  }

  /** One more reader; it must {@link #release} or {@link #abandon} once, later. */
  public void retain() {
    if (this == NONE || abandoned) {
      return; // nobody counts readers of a buffer that never goes back
    }
    if (readers.getAndIncrement() <= 0) {
      readers.decrementAndGet();
      throw new IllegalStateException("the buffer was already given back");
    }
  }

  /** The caller has stopped reading: the last reader to release gives the buffers back to their pool. */
  public void release() {
    if (this == NONE) {
      return;
    }
    int left = readers.decrementAndGet();
    if (left == 0 && !abandoned) {
      buffers.forEach(pool::release);
    } else if (left < 0 && !abandoned) {
      throw new IllegalStateException("released more often than retained");
    }
  }

  /**
   * The caller stops holding the buffer without knowing when it stops reading it (a request whose batch
   * may still be running): the buffer never goes back to the pool, and the garbage collector frees it.
   */
  public void abandon() {
    if (this == NONE) {
      return;
    }
    abandoned = true;
    release();
  }

  /** Whether the buffer went back to its pool (for tests); never for {@link #none()}, whose count nobody moves. */
  boolean returned() {
    return readers.get() == 0 && !abandoned;
  }
}
