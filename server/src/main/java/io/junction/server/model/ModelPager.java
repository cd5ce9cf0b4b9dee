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
 * after unloading the least recently used idle models until it fits. Request-triggered loads of one
 * model are deduplicated and run one at a time on the {@code junction-model-loader} thread, which this
 * class owns; pinned models are never unloaded to make room.
 *
 * <p>The pager is also the {@link LoadAdmission} of every other load (start-up, poll reloads,
 * RepositoryModelLoad): each makes room the same way or is refused, naming the budget, the need and
 * what holds the memory.
 *
 * <p>The budget counts what loaded, not retired versions hold ({@link Footprint#budgetBytes()}). A
 * version unloaded to make room finishes its in-flight requests before its memory is freed, and a
 * reload holds old and new versions while it swaps them, so the process may briefly hold more.
 */
public final class ModelPager implements ModelAccess, LoadAdmission {
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
    models.admitLoadsWith(this);
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
    models.load(name); // asks admit() first
  }

  /**
   * Loads the models a server starts with: every pinned model, refused at start (an exception) when
   * the pins together do not fit; then the others named, while they fit without unloading one loaded
   * before them. Those that do not fit are logged and load on demand.
   *
   * @param names the models to load, the pinned ones among them
   * @throws IllegalArgumentException when a pinned model is not among them, or the pinned models need
   *     more than the budget
   */
  public void loadAtStart(java.util.List<String> names) {
    java.util.List<String> missing = pinned.stream().filter(p -> !names.contains(p)).sorted().toList();
    if (!missing.isEmpty()) {
      throw new IllegalArgumentException("pinned models " + missing + " are not in the model repository");
    }
    long pinnedBytes = 0;
    StringBuilder pins = new StringBuilder();
    for (String name : names) {
      if (pinned.contains(name)) {
        long bytes = models.estimateBytes(name);
        pinnedBytes += bytes;
        pins.append(pins.length() == 0 ? "" : ", ").append(name).append(" (").append(bytes).append(" bytes)");
      }
    }
    if (pinnedBytes > budgetBytes) {
      throw new IllegalArgumentException("the pinned models need " + pinnedBytes + " bytes, more than the memory "
          + "budget of " + budgetBytes + " bytes: " + pins + "; raise --model-memory-budget or pin fewer models");
    }
    names.stream().filter(pinned::contains).forEach(models::load);
    java.util.List<String> deferred = new java.util.ArrayList<>();
    for (String name : names) {
      if (pinned.contains(name)) {
        continue;
      }
      if (residentBytes() + models.estimateBytes(name) <= budgetBytes) {
        models.load(name);
      } else {
        deferred.add(name);
      }
    }
    if (!deferred.isEmpty()) {
      log.warn("{} of {} models named to load at start fit the memory budget of {} bytes; {} load on their first "
          + "request instead", names.size() - deferred.size(), names.size(), budgetBytes, deferred);
    }
  }

  /**
   * Admission of every load: refuses one larger than the whole budget, else unloads least recently
   * used idle models until it fits. Models busy with requests are not unloaded under them: when only
   * busy ones could make room, this waits for one to become idle (requests are short), up to
   * {@link #MAX_WAIT_FOR_ROOM}. Runs under the model manager's lock, one load at a time.
   */
  @Override
  public void admit(String name, long needed, long held) {
    if (needed > budgetBytes) {
      throw new QueueFullException("cannot load model '" + name + "': it needs " + needed + " bytes, more than the "
          + "whole memory budget of " + budgetBytes + " bytes (--model-memory-budget)");
    }
    long deadline = System.nanoTime() + MAX_WAIT_FOR_ROOM.toNanos();
    while (residentBytes() - held + needed > budgetBytes) {
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
        throw new QueueFullException("cannot load model '" + name + "': it needs " + needed + " bytes and the "
            + "memory budget of " + budgetBytes + " bytes (--model-memory-budget) has " + (budgetBytes - residentBytes()
            + held) + " free; the rest is held by " + holders(name) + (evictable ? "; retry when they are idle" : ""));
      }
      try {
        Thread.sleep(1); // a busy model finishes its requests in milliseconds
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new ModelUnavailableException("model '" + name + "': the server is shutting down");
      }
    }
  }

  /** Who holds the budget besides {@code name}: each model, its bytes, and whether it is pinned or busy. */
  private String holders(String name) {
    StringBuilder sb = new StringBuilder();
    models.readyModels().stream().filter(m -> !m.name().equals(name))
        .forEach(m -> sb.append(sb.length() == 0 ? "" : ", ").append(m.name()).append(" v").append(m.version())
            .append(" (").append(m.footprintBytes()).append(" bytes, ")
            .append(pinned.contains(m.name()) ? "pinned" : m.inFlight() > 0 ? "busy" : "idle").append(')'));
    return sb.length() == 0 ? "no other model" : sb.toString();
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
