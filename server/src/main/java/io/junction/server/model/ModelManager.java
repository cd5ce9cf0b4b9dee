package io.junction.server.model;

import io.junction.proto.inference.ModelConfig;
import io.junction.server.device.DeviceId;
import io.junction.server.backend.BackendRegistry;
import io.junction.server.backend.ModelLoadException;
import io.junction.server.errors.ModelNotFoundException;
import io.junction.server.errors.ModelUnavailableException;
import io.junction.server.errors.QueueFullException;
import io.junction.server.repository.ModelDirectory;
import io.junction.server.repository.ModelRepository;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which model versions are loaded and ready, and their loading and unloading.
 *
 * <p>Readers ({@link #resolve}, {@link #index}) take no lock: each model's state is an immutable
 * {@link ModelRecord} swapped atomically. Loads and unloads are serialised by one lock, since they are
 * rare and slow compared with requests. A version replaced or unloaded is retired: it stops taking new
 * requests and closes once its in-flight requests are done. Turning a version's files into a ready version is
 * {@link VersionLoader}'s job; following the repository's changes in POLL mode is {@link RepositorySync}'s.
 */
public final class ModelManager implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ModelManager.class);

  /** The reason of versions unloaded on request (not failures: polls do not retry them). */
  static final String UNLOADED = "unloaded";

  /** Told whenever a model's readiness may have changed. */
  public interface Listener {
    void modelChanged(String name, boolean ready);
  }

  private final ModelRepository repository;
  private final VersionLoader loader;
  private volatile LoadAdmission admission = LoadAdmission.UNLIMITED;
  /** The READY versions as of the last change (see {@link #readyModels()}). */
  private volatile List<ServedModel> ready = List.of();
  private final Map<String, ModelRecord> models = new ConcurrentHashMap<>();
  /**
   * Configs an operator loaded models with in place of their config.pbtxt (RepositoryModelLoad's {@code
   * config}): every later load of the model (a reload on demand after an eviction too) uses it, until an
   * operator loads the model again without one.
   */
  private final Map<String, ModelConfig> configOverrides = new ConcurrentHashMap<>();
  private final Map<String, LongAdder> reloadFailures = new ConcurrentHashMap<>();
  /** The last load failure logged per model, so that a repeated one is not logged again. */
  private final Map<String, String> lastFailure = new ConcurrentHashMap<>();
  private final List<Listener> listeners = new CopyOnWriteArrayList<>();
  /** Orders loads and unloads; never held while serving a request. */
  private final ReentrantLock changeLock = new ReentrantLock();

  public ModelManager(ModelRepository repository, BackendRegistry backends, ModelConfigResolver resolver) {
    this(repository, backends, resolver, new PrometheusRegistry());
  }

  /** @param metrics where the models' counters, sizes and states are exposed */
  public ModelManager(ModelRepository repository, BackendRegistry backends, ModelConfigResolver resolver,
      PrometheusRegistry metrics) {
    this(repository, backends, resolver, metrics, ProcessMemory.procfs());
  }

  /** @param memory how a load's real memory cost is measured */
  public ModelManager(ModelRepository repository, BackendRegistry backends, ModelConfigResolver resolver,
      PrometheusRegistry metrics, ProcessMemory memory) {
    this(repository, backends, resolver, metrics, memory, Set.of(DeviceId.CPU));
  }

  /** @param devices the devices this server has, where instance groups place versions */
  public ModelManager(ModelRepository repository, BackendRegistry backends, ModelConfigResolver resolver,
      PrometheusRegistry metrics, ProcessMemory memory, Set<DeviceId> devices) {
    this.repository = Objects.requireNonNull(repository, "repository");
    this.loader = new VersionLoader(repository, backends, resolver, memory, devices);
    metrics.register(new ModelMetrics(this));
  }

  /**
   * Every load from now on asks {@code admission} first. Set once, before models load; not a
   * constructor argument because the memory budget's admission evicts through this manager.
   */
  public void admitLoadsWith(LoadAdmission admission) {
    this.admission = Objects.requireNonNull(admission, "admission");
  }

  /** Warm models without {@code model_warmup} with zeros at their batch sizes before they take traffic. */
  public void autoWarmup(boolean enabled) {
    loader.autoWarmup(enabled);
  }

  public void addListener(Listener listener) {
    listeners.add(listener);
  }

  public ModelRepository repository() {
    return repository;
  }

  /** Loads every model of the repository; a model that fails is recorded and the others still load. */
  public void loadAll() {
    loadAll(name -> true);
  }

  /** Loads the models of the repository that {@code which} accepts. */
  public void loadAll(Predicate<String> which) {
    for (String name : repository.modelNames()) {
      if (which.test(name)) {
        load(name);
      }
    }
  }

  /** The model's current state, or null if it was never loaded; for {@link RepositorySync}. */
  ModelRecord record(String name) {
    return models.get(name);
  }

  /** The models this manager holds a state for: loaded, failed or unloaded. */
  Set<String> recordedNames() {
    return Set.copyOf(models.keySet());
  }

  /** Reason of versions unloaded to make room under the memory budget; they load again on demand. */
  static final String EVICTED = "evicted to stay within the memory budget";

  /**
   * Unloads a model to make room (its in-flight requests finish first); it stays in the index as
   * UNAVAILABLE with the reason, and loads again on its next request.
   */
  public void evict(String name) {
    changeLock.lock();
    try {
      ModelRecord current = models.get(name);
      if (current == null) {
        return;
      }
      NavigableMap<Long, VersionStatus> versions = new TreeMap<>();
      current.versions().keySet().forEach(v -> versions.put(v, VersionStatus.failed(v, EVICTED)));
      swap(name, new ModelRecord(name, Optional.empty(), versions, current.fingerprint()));
      log.info("model '{}' evicted to stay within the memory budget", name);
    } finally {
      changeLock.unlock();
    }
  }

  /**
   * Every READY version of every model: one consistent snapshot, taken at the last change (iterating the
   * live map while an eviction and a load swap records could see both the evicted and the loaded model).
   */
  public List<ServedModel> readyModels() {
    return ready;
  }

  /** Publishes the READY versions after a change; called with the change lock held. */
  private void changed() {
    ready = models.values().stream().flatMap(r -> r.versions().values().stream())
        .flatMap(v -> v.served().stream()).toList();
  }

  /** Whether an operator unloaded the model (RepositoryModelUnload) and has not loaded it since. */
  public boolean isUnloadedByOperator(String name) {
    ModelRecord r = models.get(name);
    return r != null && r.unloadedFor(Set.of(UNLOADED));
  }

  public boolean isLoaded(String name) {
    ModelRecord r = models.get(name);
    return r != null && r.anyReady();
  }

  /**
   * Bytes a load of the model is expected to hold on each device its instance groups place it on: per
   * version its policy selects, the most it was measured to hold there before, or at least the size of
   * its files.
   */
  public Map<DeviceId, Long> estimateBytes(String name) {
    return loader.estimateBytes(name, configOverride(name));
  }

  /** Bytes the model's serving versions hold now on each device, as the memory budgets count them. */
  public Map<DeviceId, Long> heldBytes(String name) {
    Map<DeviceId, Long> held = new TreeMap<>();
    ModelRecord record = models.get(name);
    if (record != null) {
      record.versions().values().stream().flatMap(v -> v.served().stream()).forEach(served ->
          served.instances().forEach(i -> held.merge(i.device(), served.footprintOn(i.device()), Long::sum)));
    }
    return held;
  }

  /** Unloads a model whose directory is gone and drops it from the index. */
  void forget(String name) {
    changeLock.lock();
    try {
      configOverrides.remove(name);
      ModelRecord old = models.remove(name);
      changed();
      if (old != null) {
        retireAll(old, Map.of());
        listeners.forEach(l -> l.modelChanged(name, false));
        log.info("model '{}' removed from the repository: unloaded", name);
      }
    } finally {
      changeLock.unlock();
    }
  }

  /**
   * Loads (or reloads) a model from disk: the versions its policy selects are loaded beside the current
   * ones, then swapped in; versions no longer selected are retired.
   *
   * <p>A reload replaces what serves only when all of it loaded (Triton's rule, which operators rely
   * on): if any selected version fails, or the model's files do not load at all, the versions that
   * were serving go on serving unchanged, the failure is logged once, counted and shown in the index,
   * and the new files are tried again only when they change.
   *
   * <p>A load first asks the {@link LoadAdmission} (the memory budget). When it is refused nothing
   * changes: what serves goes on serving, and the refusal is logged once and shown in the index.
   *
   * @return whether at least one version is ready afterwards from this load (false when a failed
   *     reload left the previous versions serving)
   * @throws ModelNotFoundException if the repository has no such model
   * @throws QueueFullException if the memory budget refused the load
   */
  public boolean load(String name) {
    changeLock.lock();
    try {
      return loadNow(name, configOverride(name)).ready();
    } finally {
      changeLock.unlock();
    }
  }

  /**
   * An operator's load: as {@link #load(String)}, with {@code config} in place of the model's config.pbtxt
   * from now on (empty: config.pbtxt again). When the load does not replace what serves (it failed, or the
   * budget refused it), the config that was in effect stays in effect.
   */
  public boolean load(String name, Optional<ModelConfig> config) {
    changeLock.lock();
    try {
      Loaded loaded = loadNow(name, config);
      if (!loaded.keptPrevious()) {
        config.ifPresentOrElse(c -> configOverrides.put(name, c), () -> configOverrides.remove(name));
      }
      return loaded.ready();
    } finally {
      changeLock.unlock();
    }
  }

  /** The config an operator loaded the model with in place of its config.pbtxt, if any. */
  public Optional<ModelConfig> configOverride(String name) {
    return Optional.ofNullable(configOverrides.get(name));
  }

  /** What a load did: whether a version is ready from it, and whether a failed reload left the previous serving. */
  private record Loaded(boolean ready, boolean keptPrevious) {}

  /** @throws QueueFullException if the memory budget refused the load (then nothing changed) */
  private Loaded loadNow(String name, Optional<ModelConfig> config) {
    ModelRecord previous = models.get(name);
    try {
      admission.admit(name, loader.estimateBytes(name, config), heldBytes(name));
    } catch (QueueFullException e) {
      refused(name, previous, e.getMessage());
      throw e;
    }
    ModelRecord record = loadRecord(name, config);
    if (previous != null && previous.anyReady() && record.hasFailures()) {
      keepServing(name, previous, record);
      return new Loaded(false, true);
    }
    reportFailures(name, record);
    swap(name, record);
    return new Loaded(record.anyReady(), false);
  }

  /**
   * Logs a load's failures at ERROR once per change of reason: a model that keeps failing the same way
   * (retried by poll mode) says so once, not on every poll.
   */
  private void reportFailures(String name, ModelRecord record) {
    if (!record.hasFailures()) {
      lastFailure.remove(name);
      return;
    }
    String reason = record.failures(); // names the model
    if (reason.equals(lastFailure.put(name, reason))) {
      log.debug("failed to load again, for the same reason: {}", reason);
    } else {
      log.error("failed to load: {}", reason);
    }
  }

  /** A load the budget refused: logged once per reason; a serving model shows why its reload did not happen. */
  private void refused(String name, ModelRecord previous, String reason) {
    if (!reason.equals(lastFailure.put(name, reason))) {
      log.warn("{}", reason);
    }
    if (previous != null && previous.anyReady()) {
      // the old fingerprint stays, so that a poll tries the new files again once there is room
      models.put(name, previous.keptAfter(previous.fingerprint(), reason));
      changed();
    }
  }

  /** A reload that failed: what loaded of it is closed unused; {@code previous} serves on. */
  private void keepServing(String name, ModelRecord previous, ModelRecord failed) {
    for (VersionStatus v : failed.versions().values()) {
      v.served().ifPresent(ServedModel::retire); // loaded beside the old one, never took traffic
    }
    String reason = failed.failures();
    models.put(name, previous.keptAfter(failed.fingerprint(), reason));
    changed();
    reloadFailures.computeIfAbsent(name, n -> new LongAdder()).increment();
    log.error("reload failed, the versions that were serving go on serving: {}", reason); // the reason names the model
  }

  /** Reloads that failed and left the serving versions in place, per model. */
  Map<String, Long> reloadFailures() {
    Map<String, Long> counts = new TreeMap<>();
    reloadFailures.forEach((name, n) -> counts.put(name, n.sum()));
    return counts;
  }

  /**
   * Unloads every version of a model; requests in flight complete first.
   *
   * @throws ModelNotFoundException if the model is not known
   */
  public void unload(String name) {
    changeLock.lock();
    try {
      ModelRecord current = models.get(name);
      if (current == null) {
        throw new ModelNotFoundException("model '" + name + "' is not known");
      }
      NavigableMap<Long, VersionStatus> versions = new TreeMap<>();
      current.versions().keySet().forEach(v -> versions.put(v, VersionStatus.failed(v, UNLOADED)));
      swap(name, new ModelRecord(name, Optional.empty(), versions, current.fingerprint()));
      log.info("model '{}' unloaded by request", name);
    } finally {
      changeLock.unlock();
    }
  }

  /**
   * The version that serves a request: the one named, or the newest ready one when {@code version} is
   * empty. The caller must {@link ServedModel#tryAcquire()} it before use.
   *
   * @throws ModelNotFoundException for an unknown model or version
   * @throws ModelUnavailableException for a known version that is not ready
   */
  public ServedModel resolve(String name, String version) {
    ModelRecord record = models.get(name);
    if (record == null) {
      throw new ModelNotFoundException("model '" + name + "' is not known to this server");
    }
    if (version == null || version.isEmpty()) {
      return record.newestReady().orElseThrow(() -> new ModelUnavailableException(
          "model '" + name + "' has no ready version: " + describe(record)));
    }
    long v = parseVersion(name, version);
    VersionStatus status = record.versions().get(v);
    if (status == null) {
      throw new ModelNotFoundException("model '" + name + "' has no version " + version + " (versions: "
          + record.versions().keySet() + ")");
    }
    return status.served().orElseThrow(() -> new ModelUnavailableException(
        ServedModel.label(name, v) + " is " + status.state() + ": " + status.reason()));
  }

  /** Every version of a model that is READY, newest last. */
  public List<ServedModel> readyVersions(String name) {
    ModelRecord record = models.get(name);
    if (record == null) {
      throw new ModelNotFoundException("model '" + name + "' is not known to this server");
    }
    return record.versions().values().stream().flatMap(v -> v.served().stream()).toList();
  }

  /** All models known: loaded, failed, or present in the repository and never loaded. */
  public List<ModelIndexEntry> index() {
    Map<String, ModelRecord> snapshot = new TreeMap<>(models);
    for (String name : repository.modelNames()) {
      snapshot.putIfAbsent(name, null);
    }
    List<ModelIndexEntry> entries = new ArrayList<>();
    snapshot.forEach((name, record) -> {
      if (record == null) {
        entries.add(new ModelIndexEntry(name, "", ModelState.UNAVAILABLE, "not loaded"));
      } else if (record.modelFailure().isPresent()) {
        entries.add(new ModelIndexEntry(name, "", ModelState.UNAVAILABLE, record.modelFailure().get()));
      } else {
        String kept = record.reloadFailure().isEmpty() ? ""
            : "serving the previous load; the reload failed: " + record.reloadFailure();
        record.versions().values().forEach(v -> entries.add(new ModelIndexEntry(name, Long.toString(v.version()),
            v.state(), v.reason().isEmpty() ? readyReason(kept, v) : v.reason())));
      }
    });
    return entries;
  }

  /** A ready version's line: why a reload did not replace it, if so, and what it holds in memory. */
  private static String readyReason(String kept, VersionStatus v) {
    String footprint = v.served().map(m -> "footprint: " + m.footprint()).orElse("");
    return kept.isEmpty() ? footprint : kept + "; " + footprint;
  }

  /** Names of the models this server has tried to load. */
  public List<String> modelNames() {
    return new TreeMap<>(models).keySet().stream().toList();
  }

  /** Whether every model that was asked to load has a ready version (Triton's strict readiness). */
  public boolean allReady() {
    return models.values().stream().allMatch(r -> r.anyReady() || isUnloadedOnPurpose(r));
  }

  @Override
  public void close() {
    changeLock.lock();
    try {
      for (String name : new ArrayList<>(models.keySet())) {
        ModelRecord old = models.remove(name);
        changed();
        retireAll(old, Map.of());
      }
    } finally {
      changeLock.unlock();
    }
  }

  private static boolean isUnloadedOnPurpose(ModelRecord record) {
    return record.unloadedFor(Set.of(UNLOADED, EVICTED));
  }

  private ModelRecord loadRecord(String name, Optional<ModelConfig> config) {
    String fingerprint = repository.fingerprint(name);
    ModelDirectory dir;
    try {
      dir = repository.open(name, config);
    } catch (ModelLoadException e) {
      return ModelRecord.failed(name, e.getMessage(), fingerprint);
    }
    if (dir.selectedVersions().isEmpty()) {
      String reason = dir.availableVersions().isEmpty()
          ? "no version directory (e.g. " + name + "/1/) in the model repository"
          : "version_policy selects none of the versions present " + dir.availableVersions();
      return ModelRecord.failed(name, reason, fingerprint);
    }
    NavigableMap<Long, VersionStatus> versions = new TreeMap<>();
    for (long version : dir.selectedVersions()) {
      versions.put(version, loader.load(dir, version));
    }
    return new ModelRecord(name, Optional.empty(), versions, fingerprint);
  }

  private void swap(String name, ModelRecord next) {
    ModelRecord previous = models.put(name, next);
    changed();
    retireAll(previous, next.versions());
    boolean ready = next.anyReady();
    listeners.forEach(l -> l.modelChanged(name, ready));
  }

  private static void retireAll(ModelRecord previous, Map<Long, VersionStatus> keep) {
    if (previous == null) {
      return;
    }
    for (VersionStatus old : previous.versions().values()) {
      old.served().ifPresent(served -> {
        VersionStatus replacement = keep.get(old.version());
        if (replacement == null || replacement.served().orElse(null) != served) {
          served.retire();
        }
      });
    }
  }

  private static long parseVersion(String name, String version) {
    try {
      long v = Long.parseLong(version);
      if (v < 0) {
        throw new NumberFormatException();
      }
      return v;
    } catch (NumberFormatException e) {
      throw new ModelNotFoundException("model '" + name + "' has no version '" + version
          + "': versions are non-negative integers");
    }
  }

  private static String describe(ModelRecord record) {
    if (record.modelFailure().isPresent()) {
      return record.modelFailure().get();
    }
    StringBuilder sb = new StringBuilder();
    record.versions().values().forEach(v -> sb.append(sb.length() == 0 ? "" : "; ")
        .append("version ").append(v.version()).append(' ').append(v.state())
        .append(v.reason().isEmpty() ? "" : " (" + v.reason() + ")"));
    return sb.toString();
  }
}
