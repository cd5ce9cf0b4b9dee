package io.junction.server.tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Reuses direct buffers for batch inputs, so the hot path does not allocate (and later free) native
 * memory per batch. Buffers come in power-of-two sizes; at most {@code maxPooledBytes} are kept idle,
 * and buffers larger than {@code maxBufferBytes} are never pooled. Thread-safe.
 */
public final class BufferPool {
  private static final int MIN_CLASS = 12; // 4 KiB
  private static final int MAX_CLASS = 30; // 1 GiB

  private final long maxPooledBytes;
  private final long maxBufferBytes;
  @SuppressWarnings("unchecked")
  private final ConcurrentLinkedDeque<ByteBuffer>[] free = new ConcurrentLinkedDeque[MAX_CLASS + 1];
  private final AtomicLong pooledBytes = new AtomicLong();
  private final AtomicLong allocations = new AtomicLong();

  public BufferPool(long maxPooledBytes, long maxBufferBytes) {
    if (maxPooledBytes < 0 || maxBufferBytes < 0) {
      throw new IllegalArgumentException("pool sizes must be non-negative");
    }
    this.maxPooledBytes = maxPooledBytes;
    this.maxBufferBytes = maxBufferBytes;
    for (int i = 0; i < free.length; i++) {
      free[i] = new ConcurrentLinkedDeque<>();
    }
  }

  /** A little-endian direct buffer with position 0 and limit {@code bytes}. Return it with {@link #release}. */
  public ByteBuffer acquire(int bytes) {
    int sizeClass = sizeClass(bytes);
    if (sizeClass <= MAX_CLASS) {
      ByteBuffer b = free[sizeClass].pollFirst();
      if (b != null) {
        pooledBytes.addAndGet(-b.capacity());
        b.clear().limit(bytes);
        return b;
      }
    }
    allocations.incrementAndGet();
    int capacity = sizeClass <= MAX_CLASS && bytes <= maxBufferBytes ? 1 << sizeClass : bytes;
    return ByteBuffer.allocateDirect(capacity).order(ByteOrder.LITTLE_ENDIAN).limit(bytes);
  }

  /** Gives a buffer from {@link #acquire} back; nobody may use it afterwards. */
  public void release(ByteBuffer buffer) {
    int capacity = buffer.capacity();
    if (Integer.bitCount(capacity) != 1 || capacity > maxBufferBytes) {
      return;
    }
    int sizeClass = Integer.numberOfTrailingZeros(capacity);
    if (sizeClass < MIN_CLASS || sizeClass > MAX_CLASS) {
      return;
    }
    if (pooledBytes.addAndGet(capacity) > maxPooledBytes) {
      pooledBytes.addAndGet(-capacity);
      return; // the pool is full; let the GC free it
    }
    free[sizeClass].addFirst(buffer.order(ByteOrder.LITTLE_ENDIAN));
  }

  /** Direct buffers allocated so far (a pool that works keeps this flat under steady load). */
  public long allocations() {
    return allocations.get();
  }

  /**
   * Bytes of the buffers waiting in the pool to be reused, at most {@code maxPooledBytes}: direct memory the
   * server keeps on purpose after a peak, which a reader of its memory tells apart from a leak with this.
   */
  public long idleBytes() {
    return pooledBytes.get();
  }

  private static int sizeClass(int bytes) {
    if (bytes <= 1 << MIN_CLASS) {
      return MIN_CLASS;
    }
    return 32 - Integer.numberOfLeadingZeros(bytes - 1);
  }
}
