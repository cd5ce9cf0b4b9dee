package io.junction.server.model;

import io.junction.server.concurrent.NamedThreadFactory;
import io.junction.server.concurrent.Shutdown;
import io.junction.server.device.DeviceId;
import io.junction.server.errors.JunctionException;
import io.junction.server.errors.ModelNotFoundException;
import io.junction.server.errors.ModelUnavailableException;
import io.junction.server.errors.QueueFullException;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Many models in memory budgets, one per device that has one ({@code cpu}, {@code gpu:0} ...): a request
 * for a model that is not loaded loads it (the request waits), after unloading the least recently used
 * idle models on each device it is placed on until it fits there. Request-triggered loads of one
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
  /** Budgets by device; devices without one are not limited. */
  private final Map<DeviceId, Long> budgets;
  private final Set<String> pinned;
  private final ExecutorService loader =
      Executors.newSingleThreadExecutor(new NamedThreadFactory("junction-model-loader", true));
  /** Loads in progress, so concurrent requests for one model share one load. */
  private final Map<String, CompletableFuture<Void>> loading = new ConcurrentHashMap<>();
  /** Models unloaded to make room, by the device that needed it. */
  private final Map<DeviceId, AtomicLong> evictions = new ConcurrentHashMap<>();

  /** A budget for the CPU alone. */
  public ModelPager(ModelManager models, long cpuBudgetBytes, Set<String> pinned) {
    this(models, Map.of(DeviceId.CPU, cpuBudgetBytes), pinned, new PrometheusRegistry());
  }

  /**
   * @param budgets bytes the models placed on each device may hold; devices not named are not limited
   * @param metrics where the pager exposes the bytes loaded, the budgets and the evictions per device
   */
  public ModelPager(ModelManager models, Map<DeviceId, Long> budgets, Set<String> pinned, PrometheusRegistry metrics) {
    if (budgets.isEmpty()) {
      throw new IllegalArgumentException("a pager needs at least one device's budget");
    }
    budgets.forEach((device, bytes) -> {
      if (bytes <= 0) {
        throw new IllegalArgumentException("the memory budget of " + device + " must be positive, got " + bytes);
      }
      evictions.put(device, new AtomicLong());
    });
    this.models = models;
    this.budgets = Map.copyOf(budgets);
    this.pinned = Set.copyOf(pinned);
    models.admitLoadsWith(this);
    GaugeWithCallback.builder().name("junction_model_memory_bytes")
        .help("Bytes models loaded on a device hold, as its memory budget counts them").labelNames("device")
        .callback(cb -> this.budgets.keySet().forEach(d -> cb.call(residentBytes(d), d.toString()))).register(metrics);
    GaugeWithCallback.builder().name("junction_model_memory_budget_bytes")
        .help("The memory budget for models on a device").labelNames("device")
        .callback(cb -> this.budgets.forEach((d, b) -> cb.call(b, d.toString()))).register(metrics);
    CounterWithCallback.builder().name("junction_model_evictions")
        .help("Models unloaded to stay within a device's memory budget").labelNames("device")
        .callback(cb -> evictions.forEach((d, n) -> cb.call(n.get(), d.toString()))).register(metrics);
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
      } catch (RejectedExecutionException e) {
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
  public void loadAtStart(List<String> names) {
    List<String> missing = pinned.stream().filter(p -> !names.contains(p)).sorted().toList();
    if (!missing.isEmpty()) {
      throw new IllegalArgumentException("pinned models " + missing + " are not in the model repository");
    }
    Map<DeviceId, Long> pinnedBytes = new TreeMap<>();
    Map<DeviceId, StringBuilder> pins = new TreeMap<>();
    for (String name : names) {
      if (pinned.contains(name)) {
        models.estimateBytes(name).forEach((device, bytes) -> {
          pinnedBytes.merge(device, bytes, Long::sum);
          StringBuilder list = pins.computeIfAbsent(device, d -> new StringBuilder());
          list.append(list.length() == 0 ? "" : ", ").append(name).append(" (").append(bytes).append(" bytes)");
        });
      }
    }
    pinnedBytes.forEach((device, bytes) -> {
      Long budget = budgets.get(device);
      if (budget != null && bytes > budget) {
        throw new IllegalArgumentException("the pinned models need " + bytes + " bytes on " + device + ", more than "
            + "its memory budget of " + budget + " bytes: " + pins.get(device) + "; raise --model-memory-budget or "
            + "pin fewer models");
      }
    });
    names.stream().filter(pinned::contains).forEach(models::load);
    List<String> deferred = new ArrayList<>();
    for (String name : names) {
      if (pinned.contains(name)) {
        continue;
      }
      boolean fits = models.estimateBytes(name).entrySet().stream().allMatch(e -> !budgets.containsKey(e.getKey())
          || residentBytes(e.getKey()) + e.getValue() <= budgets.get(e.getKey()));
      if (fits) {
        models.load(name);
      } else {
        deferred.add(name);
      }
    }
    if (!deferred.isEmpty()) {
      log.warn("{} of {} models named to load at start fit the memory budgets {}; {} load on their first "
          + "request instead", names.size() - deferred.size(), names.size(), budgets, deferred);
    }
  }

  /**
   * Admission of every load: refuses one larger than a whole budget of a device it is placed on, else
   * unloads least recently used idle models on each such device until it fits there. Models busy with
   * requests are not unloaded under them: when only busy ones could make room, this waits for one to
   * become idle (requests are short), up to {@link #MAX_WAIT_FOR_ROOM}. Runs under the model manager's
   * lock, one load at a time.
   */
  @Override
  public void admit(String name, Map<DeviceId, Long> needed, Map<DeviceId, Long> held) {
    for (Map.Entry<DeviceId, Long> need : needed.entrySet()) {
      Long budget = budgets.get(need.getKey());
      if (budget != null && need.getValue() > budget) {
        throw new QueueFullException("cannot load model '" + name + "': it needs " + need.getValue() + " bytes on "
            + need.getKey() + ", more than its whole memory budget of " + budget + " bytes (--model-memory-budget)");
      }
    }
    long deadline = System.nanoTime() + MAX_WAIT_FOR_ROOM.toNanos();
    for (Map.Entry<DeviceId, Long> need : needed.entrySet()) {
      DeviceId device = need.getKey();
      Long budget = budgets.get(device);
      if (budget == null) {
        continue;
      }
      long heldThere = held.getOrDefault(device, 0L);
      while (residentBytes(device) - heldThere + need.getValue() > budget) {
        ServedModel victim = models.readyModels().stream()
            .filter(m -> !pinned.contains(m.name()) && !m.name().equals(name) && m.inFlight() == 0
                && m.footprintOn(device) > 0)
            .min(Comparator.comparingLong(ServedModel::lastUsedNanos))
            .orElse(null);
        if (victim != null) {
          models.evict(victim.name());
          evictions.get(device).incrementAndGet();
          continue;
        }
        boolean evictable = models.readyModels().stream()
            .anyMatch(m -> !pinned.contains(m.name()) && !m.name().equals(name) && m.footprintOn(device) > 0);
        if (!evictable || System.nanoTime() - deadline > 0) {
          throw new QueueFullException("cannot load model '" + name + "': it needs " + need.getValue() + " bytes on "
              + device + " and its memory budget of " + budget + " bytes (--model-memory-budget) has "
              + (budget - residentBytes(device) + heldThere) + " free; the rest is held by " + holders(name, device)
              + (evictable ? "; retry when they are idle" : ""));
        }
        try {
          Thread.sleep(1); // a busy model finishes its requests in milliseconds
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new ModelUnavailableException("model '" + name + "': the server is shutting down");
        }
      }
    }
  }

  /** Who holds a device's budget besides {@code name}: each model, its bytes, and whether it is pinned or busy. */
  private String holders(String name, DeviceId device) {
    StringBuilder sb = new StringBuilder();
    models.readyModels().stream().filter(m -> !m.name().equals(name) && m.footprintOn(device) > 0)
        .forEach(m -> sb.append(sb.length() == 0 ? "" : ", ").append(m.name()).append(" v").append(m.version())
            .append(" (").append(m.footprintOn(device)).append(" bytes, ")
            .append(pinned.contains(m.name()) ? "pinned" : m.inFlight() > 0 ? "busy" : "idle").append(')'));
    return sb.length() == 0 ? "no other model" : sb.toString();
  }

  /** Bytes loaded, not retired versions hold on the CPU. */
  public long residentBytes() {
    return residentBytes(DeviceId.CPU);
  }

  /** Bytes loaded, not retired versions hold on {@code device}. */
  public long residentBytes(DeviceId device) {
    return models.readyModels().stream().mapToLong(m -> m.footprintOn(device)).sum();
  }

  /** Models unloaded to make room, on every device. */
  public long evictions() {
    return evictions.values().stream().mapToLong(AtomicLong::get).sum();
  }

  public Map<DeviceId, Long> budgets() {
    return budgets;
  }

  @Override
  public void close() {
    Shutdown.now(loader, Duration.ofSeconds(30));
    log.debug("model pager stopped after {} evictions", evictions());
  }
}
