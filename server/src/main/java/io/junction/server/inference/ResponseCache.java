package io.junction.server.inference;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Policy;
import io.junction.server.model.ServedModel;
import io.junction.server.tensor.DataType;
import io.junction.server.tensor.Tensor;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Collectors;

/**
 * Triton's response cache: the outputs of models whose config.pbtxt sets {@code response_cache { enable: true }},
 * by request, so that a request identical to one answered before (same model version, inputs with the same names,
 * types, shapes and contents, same outputs asked for) is answered without running the model. One cache of a fixed
 * size in bytes serves every such model; what is least worth keeping goes first (Caffeine's frequency and recency
 * policy).
 *
 * <p>Requests are told apart by their whole contents, not by a hash of them as Triton does: a hash collision would
 * answer one client's request with another's outputs, and a client able to craft one could choose which. So an
 * entry keeps a copy of its request's inputs beside the outputs, and its size counts both.
 *
 * <p>Once the cache is full, the answer to a request of {@link #SECOND_MISS_REQUEST_BYTES} or more is kept from the
 * second miss of the request, not the first: keeping it means copying the request and its outputs onto the heap
 * (tens to hundreds of microseconds for large ones) and evicting others, and a request seen once is what a full cache
 * least needs (Caffeine's own admission would mostly turn it away again). A cache with room keeps every answer, and
 * smaller requests cost too little to copy to be worth the doubt.
 */
public final class ResponseCache {
  /** What an entry costs beyond its tensors' bytes: the key, the answer and the cache's own node. */
  private static final int ENTRY_OVERHEAD_BYTES = 256;

  /** Requests this large or larger are kept by a full cache from their second miss. */
  static final long SECOND_MISS_REQUEST_BYTES = 16 * 1024;

  private final Cache<RequestKey, Answer> cache;
  /** The cache's size bound, read on every store: what the entries weigh now. */
  private final Policy.Eviction<RequestKey, Answer> eviction;
  private final long maxBytes;
  /**
   * The hashes of large requests missed once while the cache was full, each in the two slots its hash picks (a newer
   * one takes the slots of an older). Twice as many slots as the cache holds large entries at most, so a request that
   * comes back before as many others have missed is likely still remembered. Read and written without a lock: a lost
   * or stale slot only admits an answer one miss early or late.
   */
  private final int[] seenOnce;
  /** Answers a full cache did not keep because their large request missed for the first time. */
  private final LongAdder deferred = new LongAdder();

  /** @param maxBytes the cache's size; 0 for no cache */
  public ResponseCache(long maxBytes) {
    if (maxBytes < 0) {
      throw new IllegalArgumentException("the response cache's size must be at least 0, got " + maxBytes);
    }
    this.maxBytes = maxBytes;
    this.seenOnce = new int[maxBytes == 0 ? 0 : seenSlots(maxBytes)];
    this.cache = maxBytes == 0 ? null : Caffeine.newBuilder()
        .maximumWeight(maxBytes)
        .weigher((RequestKey key, Answer answer) -> (int) Math.min(Integer.MAX_VALUE,
            key.bytes() + answer.bytes() + ENTRY_OVERHEAD_BYTES))
        .executor(Runnable::run) // evictions run on the caller's thread: no pool of the JVM's common ones
        .recordStats()
        .build();
    this.eviction = cache == null ? null : cache.policy().eviction().orElseThrow();
  }

  /** Whether {@code model}'s answers are cached: the server has a cache and the model's config enables it. */
  public boolean caches(ServedModel model) {
    return cache != null && model.enablesResponseCache();
  }

  /**
   * The outputs cached for a request with {@code key}, as fresh tensors over the cached contents (each hit reads
   * its own positions); null when there are none.
   */
  public List<Tensor> lookup(RequestKey key) {
    Answer answer = cache.getIfPresent(key);
    return answer == null ? null : answer.tensors();
  }

  /**
   * Keeps a copy of {@code outputs} under a copy of {@code key}: the caller may release the request's and the
   * outputs' memory as soon as this returns.
   */
  public void store(RequestKey key, List<Tensor> outputs) {
    long requestBytes = key.bytes();
    long weight = requestBytes + Answer.bytesOf(outputs) + ENTRY_OVERHEAD_BYTES;
    if (weight > maxBytes) {
      return; // it would evict everything else and then itself
    }
    if (requestBytes >= SECOND_MISS_REQUEST_BYTES && bytes() + weight > maxBytes && firstSighting(key)) {
      deferred.increment();
      return;
    }
    cache.put(key.copy(), Answer.copyOf(outputs));
  }

  /** Two slots for each large entry the cache could hold (a power of two, 1,024 to 1,048,576: 4 KiB to 4 MiB). */
  private static int seenSlots(long maxBytes) {
    long slots = Math.max(1024, Math.min(1 << 20, 2 * maxBytes / SECOND_MISS_REQUEST_BYTES));
    return Long.highestOneBit(slots) == slots ? (int) slots : (int) Long.highestOneBit(slots) << 1;
  }

  /**
   * Whether the cache, full, has not missed {@code key}'s request before; remembers it for the next miss. A request is
   * remembered in two slots its hash picks, and found in either: with one, two requests whose hashes picked the same
   * slot and that missed in turn would each erase the other's mark, and neither would ever be kept.
   */
  private boolean firstSighting(RequestKey key) {
    int hash = key.hashCode();
    int mark = hash == 0 ? 1 : hash; // 0 marks an empty slot
    int mask = seenOnce.length - 1;
    int first = (hash ^ (hash >>> 16)) & mask;
    int second = ((hash * 0x9E3779B9) >>> 12) & mask; // other bits of the hash, mixed
    boolean seen = false;
    if (seenOnce[first] == mark) {
      seenOnce[first] = 0;
      seen = true;
    }
    if (seenOnce[second] == mark) {
      seenOnce[second] = 0;
      seen = true;
    }
    if (!seen) {
      seenOnce[first] = mark;
      seenOnce[second] = mark;
    }
    return !seen;
  }

  /** Drops the answer kept for {@code key}, if any. */
  public void forget(RequestKey key) {
    cache.invalidate(key);
  }

  /**
   * Drops the answers of {@code model}'s versions that are no longer loaded: told after every change of the model,
   * with the versions served now. Their entries could never be hit again (a key holds its version's load stamp), but
   * would hold their bytes until evicted, which on a busy cache is soon and on a quiet one never.
   */
  public void dropUnloaded(String model, List<ServedModel> served) {
    if (cache == null) {
      return;
    }
    Set<Long> loaded = served.stream().filter(m -> m.name().equals(model)).map(ServedModel::loadStamp)
        .collect(Collectors.toSet());
    cache.asMap().keySet().removeIf(key -> key.isOf(model) && !loaded.contains(key.load()));
  }

  /** Entries now. */
  public long entries() {
    return cache == null ? 0 : cache.estimatedSize();
  }

  /** Bytes the entries weigh now, by the cache's own count. */
  public long bytes() {
    return eviction == null ? 0 : eviction.weightedSize().orElse(0);
  }

  public long maxBytes() {
    return maxBytes;
  }

  /** Answers not kept, since the start, because the cache was full and their large request missed for the first time. */
  public long deferred() {
    return deferred.sum();
  }

  /** Entries evicted to make room, since the start. */
  public long evictions() {
    return cache == null ? 0 : cache.stats().evictionCount();
  }

  /** The outputs of one answer, copied onto the heap once and shared, read-only, by every hit. */
  private record Answer(List<Output> outputs, long bytes) {
    static Answer copyOf(List<Tensor> tensors) {
      return new Answer(tensors.stream().map(Output::copyOf).toList(), bytesOf(tensors));
    }

    /** What {@link #copyOf} makes of {@code tensors} weighs, known before copying them. */
    static long bytesOf(List<Tensor> tensors) {
      long bytes = 0;
      for (Tensor t : tensors) {
        bytes += HeapCopies.bytes(t);
      }
      return bytes;
    }

    /** Fresh tensors over the shared contents: each hit reads its own positions. */
    List<Tensor> tensors() {
      List<Tensor> tensors = new ArrayList<>(outputs.size());
      for (Output o : outputs) {
        tensors.add(o.tensor());
      }
      return tensors;
    }
  }

  private record Output(String name, DataType dataType, long[] shape, ByteBuffer data, List<byte[]> elements) {
    static Output copyOf(Tensor t) {
      return t.dataType() == DataType.BYTES
          ? new Output(t.name(), t.dataType(), t.shape(), null, HeapCopies.of(t.elements()))
          : new Output(t.name(), t.dataType(), t.shape(), HeapCopies.of(t.data()), null);
    }

    Tensor tensor() {
      return data == null ? Tensor.bytes(name, shape, elements) : Tensor.fixed(name, dataType, shape, data.duplicate());
    }
  }
}
