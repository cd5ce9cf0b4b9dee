package io.junction.server.model;

import io.junction.server.concurrent.NamedThreadFactory;
import io.junction.server.errors.JunctionException;
import io.junction.server.errors.ModelNotFoundException;
import io.junction.server.errors.ModelUnavailableException;
import io.junction.server.errors.QueueFullException;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Many models in a memory budget: a request for a model that is not loaded loads it (the request waits),
 * after unloading the least recently used idle models until it fits. Loads of one model are
 * deduplicated and run one at a time on the {@code junction-model-loader} thread, which this class owns;
 * pinned models are never unloaded to make room.
 *
 * <p>The budget counts the file sizes of loaded, not retired versions. A version unloaded to make room
 * finishes its in-flight requests before its memory is freed, so the process may briefly hold more.
 */
public final class ModelPager implements ModelAccess {
  private static final Logger log = LoggerFactory.getLogger(ModelPager.class);

  /** The longest a load waits for busy models to become idle so that it fits. */
  private static final Duration MAX_WAIT_FOR_ROOM = Duration.ofSeconds(30);

  private final ModelManager models;
  private final long budgetBytes;
  private final Set<String> pinned;
  private final ExecutorService loader =
      Executors.newSingleThreadExecutor(new NamedThreadFactory("junction-model-loader", true));
  /** Loads in progress, so concurrent requests for one model share one load. */
  private final Map<String, CompletableFuture<Void>> loading = new ConcurrentHashMap<>();
  private final AtomicLong evictions = new AtomicLong();

  public ModelPager(ModelManager models, long budgetBytes, Set<String> pinned) {
    this(models, budgetBytes, pinned, new PrometheusRegistry());
  }

  /** @param metrics where the pager exposes the bytes loaded, its budget and its evictions */
  public ModelPager(ModelManager models, long budgetBytes, Set<String> pinned, PrometheusRegistry metrics) {
    if (budgetBytes <= 0) {
      throw new IllegalArgumentException("budgetBytes must be positive, got " + budgetBytes);
    }
    this.models = models;
    this.budgetBytes = budgetBytes;
    this.pinned = Set.copyOf(pinned);
    GaugeWithCallback.builder().name("junction_model_memory_bytes")
        .help("Bytes of models loaded (file sizes of loaded versions)").labelNames("device")
        .callback(cb -> cb.call(residentBytes(), "cpu")).register(metrics);
    GaugeWithCallback.builder().name("junction_model_memory_budget_bytes")
        .help("The memory budget for models").labelNames("device")
        .callback(cb -> cb.call(budgetBytes, "cpu")).register(metrics);
    CounterWithCallback.builder().name("junction_model_evictions")
        .help("Models unloaded to stay within the memory budget").labelNames("device")
        .callback(cb -> cb.call(evictions.get(), "cpu")).register(metrics);
  }

  @Override
  public CompletableFuture<ServedModel> acquire(String name, String version) {
    if (models.isLoaded(name)) {
      try {
        return CompletableFuture.completedFuture(ModelAccess.acquireLoaded(models, name, version));
      } catch (JunctionException e) {
        if (!(e instanceof ModelUnavailableException)) {
          return CompletableFuture.failedFuture(e);
        }
        // evicted between the check and the reference: load it again below
      }
    }
    return loadThenAcquire(name, version, 3);
  }

  private CompletableFuture<ServedModel> loadThenAcquire(String name, String version, int attempts) {
    CompletableFuture<Void> mine = new CompletableFuture<>();
    CompletableFuture<Void> load = loading.putIfAbsent(name, mine);
    if (load == null) {
      load = mine;
      try {
        loader.execute(() -> {
          try {
            loadWithinBudget(name);
            loading.remove(name, mine); // before completing: a later request must start a new load
            mine.complete(null);
          } catch (RuntimeException | Error e) {
            loading.remove(name, mine);
            mine.completeExceptionally(e);
          }
        });
      } catch (java.util.concurrent.RejectedExecutionException e) {
        loading.remove(name, mine);
        mine.completeExceptionally(new ModelUnavailableException("model '" + name + "': the server is shutting down"));
      }
    }
    return load.thenCompose(ignored -> {
      try {
        return CompletableFuture.completedFuture(ModelAccess.acquireLoaded(models, name, version));
      } catch (ModelUnavailableException e) {
        if (attempts > 1 && !models.isLoaded(name)) {
          return loadThenAcquire(name, version, attempts - 1); // unloaded again under pressure; retry
        }
        return CompletableFuture.failedFuture(e);
      }
    });
  }

  /** Runs on the loader thread, one load at a time, so room made for a model is not taken by another. */
  private void loadWithinBudget(String name) {
    if (models.isLoaded(name)) {
      return;
    }
    if (models.isUnloadedByOperator(name)) {
      // An operator's unload wins over demand until an operator loads the model again.
      throw new ModelUnavailableException("model '" + name + "' was unloaded by an operator "
          + "(RepositoryModelUnload); it loads again with RepositoryModelLoad, not on demand");
    }
    if (models.repository().fingerprint(name).isEmpty()) {
      throw new ModelNotFoundException("model '" + name + "' is not in the model repository");
    }
    long needed = models.estimateBytes(name);
    if (needed > budgetBytes) {
      throw new QueueFullException("model '" + name + "' needs " + needed + " bytes, more than the whole memory "
          + "budget (" + budgetBytes + " bytes)");
    }
    makeRoom(name, needed);
    models.load(name);
  }

  /**
   * Unloads least recently used idle models until {@code needed} bytes fit. Models busy with requests
   * are not unloaded under them: when only busy ones could make room, this waits for one to become
   * idle (requests are short), up to {@link #MAX_WAIT_FOR_ROOM}.
   */
  private void makeRoom(String name, long needed) {
    long deadline = System.nanoTime() + MAX_WAIT_FOR_ROOM.toNanos();
    while (residentBytes() + needed > budgetBytes) {
      ServedModel victim = models.readyModels().stream()
          .filter(m -> !pinned.contains(m.name()) && !m.name().equals(name) && m.inFlight() == 0)
          .min(Comparator.comparingLong(ServedModel::lastUsedNanos))
          .orElse(null);
      if (victim != null) {
        models.evict(victim.name());
        evictions.incrementAndGet();
        continue;
      }
      boolean evictable = models.readyModels().stream()
          .anyMatch(m -> !pinned.contains(m.name()) && !m.name().equals(name));
      if (!evictable || System.nanoTime() - deadline > 0) {
        throw new QueueFullException("cannot load model '" + name + "' (" + needed + " bytes) within the memory "
            + "budget of " + budgetBytes + " bytes: " + residentBytes() + " bytes are held by models that are "
            + (evictable ? "busy" : "pinned") + "; retry later");
      }
      try {
        Thread.sleep(1); // a busy model finishes its requests in milliseconds
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new ModelUnavailableException("model '" + name + "': the server is shutting down");
      }
    }
  }

  /** Bytes of loaded, not retired versions. */
  public long residentBytes() {
    return models.readyModels().stream().mapToLong(ServedModel::footprintBytes).sum();
  }

  public long evictions() {
    return evictions.get();
  }

  public long budgetBytes() {
    return budgetBytes;
  }

  @Override
  public void close() {
    loader.shutdownNow();
    try {
      loader.awaitTermination(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    log.debug("model pager stopped after {} evictions", evictions.get());
  }
}
