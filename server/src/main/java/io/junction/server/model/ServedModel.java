package io.junction.server.model;

import io.junction.proto.inference.ModelConfig;
import io.junction.server.backend.LoadedModel;
import io.junction.server.device.DeviceId;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A loaded model version that takes traffic: its effective config, client-facing signature, backend
 * instance and statistics.
 *
 * <p>Callers {@link #tryAcquire()} it for each request and {@link #release()} it when the request is
 * done, so that a retired version (unloaded or replaced) finishes its in-flight requests before its
 * backend instance is closed.
 */
public final class ServedModel {
  private static final Logger log = LoggerFactory.getLogger(ServedModel.class);

  private final String name;
  private final long version;
  /** Made once: error messages and validation name the model on every request. */
  private final String label;
  private final ModelConfig config;
  private final ServingSignature signature;
  private final List<ModelInstances> instances;
  private final ModelStats stats;
  /** Requests in flight, plus one while the version is not retired; reaching zero closes it. */
  private final AtomicInteger references = new AtomicInteger(1);
  private final AtomicBoolean retired = new AtomicBoolean();
  private final List<Runnable> closeListeners = new CopyOnWriteArrayList<>();
  private volatile long lastUsedNanos = System.nanoTime();
  /** When this copy of the version was made: tells a reload of the same version (new weights) from the last. */
  private final long loadStamp = System.nanoTime();
  private volatile Footprint footprint = Footprint.NONE;
  private volatile long loadMillis;
  /** The class labels of the outputs whose config names a label file, by output. */
  private final Map<String, List<String>> labels;

  /** @param instances the version's copy on each device it is placed on, in device order */
  public ServedModel(String name, long version, ModelConfig config, List<ModelInstances> instances) {
    this(name, version, config, ModelConfigResolver.servingSignature(label(name, version), config), instances,
        Map.of());
  }

  /**
   * @param signature what {@code config} serves ({@link ModelConfigResolver#servingSignature}), which the loader has
   *     already worked out to reshape and check the instances
   * @param labels the class labels of outputs whose config names a {@code label_filename}, by output
   */
  public ServedModel(String name, long version, ModelConfig config, ServingSignature signature,
      List<ModelInstances> instances, Map<String, List<String>> labels) {
    if (instances.isEmpty()) {
      throw new IllegalArgumentException(label(name, version) + " needs an instance on at least one device");
    }
    this.stats = new ModelStats();
    this.name = name;
    this.version = version;
    this.label = label(name, version);
    this.config = config;
    this.instances = List.copyOf(instances);
    this.signature = signature;
    this.labels = Map.copyOf(labels);
  }

  public static String label(String name, long version) {
    return "model '" + name + "' version " + version;
  }

  public String name() {
    return name;
  }

  public long version() {
    return version;
  }

  public String label() {
    return label;
  }

  /** When this copy of the version was made ({@link System#nanoTime()}): two loads of one version differ in it. */
  public long loadStamp() {
    return loadStamp;
  }

  public ModelConfig config() {
    return config;
  }

  /** Whether the version's config.pbtxt sets {@code response_cache { enable: true }}. */
  public boolean enablesResponseCache() {
    return config.getResponseCache().getEnable();
  }

  public ServingSignature signature() {
    return signature;
  }

  /** The labels of an output's classes, in class order; empty when its config names no label file. */
  public List<String> labels(String output) {
    return labels.getOrDefault(output, List.of());
  }

  /** The copy on the first device (all copies have one signature). */
  public LoadedModel backend() {
    return instances.get(0).model();
  }

  /** The version's copy on each device it is placed on. */
  public List<ModelInstances> instances() {
    return instances;
  }

  public ModelStats stats() {
    return stats;
  }

  /** Takes a reference for one request; false once the version is retired and must not be used. */
  public boolean tryAcquire() {
    while (true) {
      int n = references.get();
      if (n == 0) {
        return false;
      }
      if (references.compareAndSet(n, n + 1)) {
        if (retired.get()) {
          release();
          return false;
        }
        lastUsedNanos = System.nanoTime();
        return true;
      }
    }
  }

  public void release() {
    if (references.decrementAndGet() == 0) {
      closeBackend();
    }
  }

  /** When a request last took this version ({@link System#nanoTime()}); for least-recently-used paging. */
  public long lastUsedNanos() {
    return lastUsedNanos;
  }

  /**
   * What the loaded version costs in the CPU's memory, as the CPU's memory budget counts it (see
   * {@link Footprint}): all of it when it has a copy on the CPU, else nothing (a GPU copy's host-side
   * memory is small next to what it holds on its device).
   */
  public long footprintBytes() {
    return footprintOn(DeviceId.CPU);
  }

  /**
   * What the version holds on {@code device}, as that device's memory budget counts it: on the CPU its
   * footprint; on a GPU what the backend reports its copy holds there, at least the size of its files.
   */
  public long footprintOn(DeviceId device) {
    for (ModelInstances i : instances) {
      if (i.device().equals(device)) {
        return device.isGpu() ? Math.max(footprint.fileBytes(), i.model().deviceMemoryBytes()) : footprint.budgetBytes();
      }
    }
    return 0;
  }

  public Footprint footprint() {
    return footprint;
  }

  public long loadMillis() {
    return loadMillis;
  }

  void loaded(Footprint footprint, long millis) {
    this.footprint = footprint;
    this.loadMillis = millis;
  }

  /** Requests holding this version now (queued or running). */
  public int inFlight() {
    int n = references.get();
    return retired.get() ? n : Math.max(0, n - 1);
  }

  /** Stops new requests; the backend closes when the last in-flight request releases it. */
  public void retire() {
    if (retired.compareAndSet(false, true)) {
      release();
    }
  }

  /** Runs {@code listener} once the version has retired and its last request finished. */
  public void onClose(Runnable listener) {
    closeListeners.add(listener);
  }

  public boolean isRetired() {
    return retired.get();
  }

  private void closeBackend() {
    for (Runnable listener : closeListeners) {
      try {
        listener.run();
      } catch (RuntimeException e) {
        log.warn("{}: a close listener failed", label(), e);
      }
    }
    for (ModelInstances i : instances) {
      try {
        i.model().close();
      } catch (RuntimeException e) {
        log.warn("{}: closing its backend on {} failed", label(), i.device(), e);
      }
    }
    log.info("{} unloaded", label());
  }
}
