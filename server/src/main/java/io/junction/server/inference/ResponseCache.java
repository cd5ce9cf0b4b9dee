package io.junction.server.inference;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.junction.server.model.ServedModel;
import io.junction.server.tensor.DataType;
import io.junction.server.tensor.Tensor;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

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
 */
public final class ResponseCache {
  /** What an entry costs beyond its tensors' bytes: the key, the answer and the cache's own node. */
  private static final int ENTRY_OVERHEAD_BYTES = 256;

  private final Cache<RequestKey, Answer> cache;
  private final long maxBytes;

  /** @param maxBytes the cache's size; 0 for no cache */
  public ResponseCache(long maxBytes) {
    if (maxBytes < 0) {
      throw new IllegalArgumentException("the response cache's size must be at least 0, got " + maxBytes);
    }
    this.maxBytes = maxBytes;
    this.cache = maxBytes == 0 ? null : Caffeine.newBuilder()
        .maximumWeight(maxBytes)
        .weigher((RequestKey key, Answer answer) -> (int) Math.min(Integer.MAX_VALUE,
            key.bytes() + answer.bytes() + ENTRY_OVERHEAD_BYTES))
        .executor(Runnable::run) // evictions run on the caller's thread: no pool of the JVM's common ones
        .recordStats()
        .build();
  }

  /** Whether {@code model}'s answers are cached: the server has a cache and the model's config enables it. */
  public boolean caches(ServedModel model) {
    return cache != null && model.config().getResponseCache().getEnable();
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
    Answer answer = Answer.copyOf(outputs);
    if (key.bytes() + answer.bytes() + ENTRY_OVERHEAD_BYTES > maxBytes) {
      return; // it would evict everything else and then itself
    }
    cache.put(key.copy(), answer);
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
    List<ServedModel> loaded = served.stream().filter(m -> m.name().equals(model)).toList();
    cache.asMap().keySet().removeIf(key -> key.isOfModel(model)
        && loaded.stream().noneMatch(m -> key.isOf(model, m.loadStamp())));
  }

  /** Entries now. */
  public long entries() {
    return cache == null ? 0 : cache.estimatedSize();
  }

  /** Bytes the entries weigh now, by the cache's own count. */
  public long bytes() {
    return cache == null ? 0 : cache.policy().eviction().map(e -> e.weightedSize().orElse(0)).orElse(0L);
  }

  public long maxBytes() {
    return maxBytes;
  }

  /** Entries evicted to make room, since the start. */
  public long evictions() {
    return cache == null ? 0 : cache.stats().evictionCount();
  }

  /** The outputs of one answer, copied onto the heap once and shared, read-only, by every hit. */
  private record Answer(List<Output> outputs, long bytes) {
    static Answer copyOf(List<Tensor> tensors) {
      List<Output> outputs = new ArrayList<>(tensors.size());
      long bytes = 0;
      for (Tensor t : tensors) {
        Output o = Output.copyOf(t);
        outputs.add(o);
        bytes += o.bytes();
      }
      return new Answer(List.copyOf(outputs), bytes);
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

    long bytes() {
      return HeapCopies.bytes(data, elements);
    }
  }
}
