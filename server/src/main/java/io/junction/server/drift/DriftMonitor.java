package io.junction.server.drift;

import io.junction.server.concurrent.NamedThreadFactory;
import io.junction.server.inference.InferenceListener;
import io.junction.server.inference.InferenceOutcome;
import io.junction.server.model.ServedModel;
import io.junction.server.tensor.Tensor;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drift monitoring: a pipeline listener that keeps a {@link DriftTracker} per model version, with its
 * reference from the version's {@code reference.jsonl[.gz]} (read on the {@code junction-drift} thread,
 * owned here) or frozen from its first requests, and exposes PSI and KS per feature as
 * {@code junction_drift_*} gauges (the top K input features by PSI, and the outputs: bounded
 * cardinality) and as a report for the HTTP API.
 */
public final class DriftMonitor implements InferenceListener, MultiCollector, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(DriftMonitor.class);

  /**
   * @param referenceCalls calls to freeze a reference from when a version has no reference file; 0: only
   *     versions with a file are watched
   * @param window calls in the sliding window compared with the reference
   * @param topK input features per version exposed as metrics (by PSI)
   */
  public record Settings(int referenceCalls, int window, int topK) {
    public Settings {
      if (referenceCalls < 0 || window < 1 || topK < 1) {
        throw new IllegalArgumentException("drift needs reference calls >= 0, a window >= 1 and top K >= 1");
      }
    }
  }

  private final Settings settings;
  private final Function<ServedModel, Optional<Path>> referenceFile;
  private final Map<ServedModel, Optional<DriftTracker>> trackers = new ConcurrentHashMap<>();
  private final ExecutorService loader =
      Executors.newSingleThreadExecutor(new NamedThreadFactory("junction-drift", true));

  /** @param referenceFile a version's reference file, if it has one */
  public DriftMonitor(Settings settings, Function<ServedModel, Optional<Path>> referenceFile, PrometheusRegistry metrics) {
    this.settings = settings;
    this.referenceFile = referenceFile;
    metrics.register(this);
  }

  @Override
  public void completed(InferenceOutcome outcome) {
    ServedModel model = outcome.model();
    if (!outcome.succeeded() || model == null) {
      return;
    }
    Optional<DriftTracker> tracker = trackers.computeIfAbsent(model, this::start);
    if (tracker.isEmpty()) {
      return;
    }
    DriftTracker.State state = tracker.get().state();
    if (state != DriftTracker.State.READY && state != DriftTracker.State.COLLECTING) {
      return;
    }
    List<Features.Sample> inputs = new ArrayList<>();
    Map<String, Tensor> validated = outcome.inputs();
    for (var input : outcome.call().inputs()) {
      Tensor t = validated.get(input.name());
      Values v = t == null ? null : Values.of(t);
      if (v != null) {
        inputs.addAll(Features.split(t.name(), v, false));
      }
    }
    List<Features.Sample> outputs = new ArrayList<>();
    for (Tensor t : outcome.outputs()) {
      Values v = Values.of(t);
      if (v != null) {
        outputs.addAll(Features.split(t.name(), v, true));
      }
    }
    tracker.get().observe(inputs, outputs);
  }

  private Optional<DriftTracker> start(ServedModel model) {
    Optional<Path> file = referenceFile.apply(model);
    if (file.isPresent()) {
      DriftTracker tracker = new DriftTracker(model.name(), model.version(), settings.window(), 0, "");
      loader.execute(() -> {
        try {
          ReferenceFile.load(file.get(), tracker);
          log.info("{}: drift reference from {} ({} calls)", model.label(), file.get().getFileName(),
              tracker.report().referenceCalls());
        } catch (Exception e) {
          tracker.failed("reference " + file.get().getFileName() + " unusable: " + e.getMessage());
          log.warn("{}: drift reference {} unusable: {}", model.label(), file.get().getFileName(), e.getMessage());
        }
      });
      return Optional.of(tracker);
    }
    if (settings.referenceCalls() > 0) {
      return Optional.of(new DriftTracker(model.name(), model.version(), settings.window(), settings.referenceCalls(), ""));
    }
    return Optional.empty();
  }

  /** The drift report of a model's version (the newest watched one when {@code version} is empty). */
  public Optional<DriftTracker.Report> report(String model, String version) {
    return trackers.entrySet().stream()
        .filter(e -> e.getKey().name().equals(model) && !e.getKey().isRetired() && e.getValue().isPresent()
            && (version.isEmpty() || Long.toString(e.getKey().version()).equals(version)))
        .max(Comparator.comparingLong(e -> e.getKey().version()))
        .map(e -> e.getValue().get().report());
  }

  @Override
  public MetricSnapshots collect() {
    trackers.keySet().removeIf(ServedModel::isRetired);
    GaugeSnapshot.Builder psi = GaugeSnapshot.builder().name("junction_drift_psi")
        .help("Population stability index of a feature's live window against its reference (top K inputs by PSI, "
            + "and outputs); above 0.2 is drift");
    GaugeSnapshot.Builder ks = GaugeSnapshot.builder().name("junction_drift_ks")
        .help("Kolmogorov-Smirnov distance (on the reference's bins) of a feature's live window");
    GaugeSnapshot.Builder window = GaugeSnapshot.builder().name("junction_drift_window_calls")
        .help("Calls in the live window compared with the reference");
    trackers.forEach((model, tracker) -> tracker.ifPresent(t -> {
      DriftTracker.Report r = t.report();
      if (r.state() != DriftTracker.State.READY) {
        return;
      }
      Labels base = Labels.of("model", r.model(), "version", Long.toString(r.version()));
      window.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().labels(base).value(r.windowCalls()).build());
      int inputs = 0;
      for (DriftTracker.FeatureDrift f : r.features()) { // sorted by PSI
        if (!f.output() && inputs++ >= settings.topK()) {
          continue;
        }
        Labels labels = base.add("feature", f.name());
        psi.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().labels(labels).value(f.psi()).build());
        ks.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().labels(labels).value(f.ks()).build());
      }
    }));
    return MetricSnapshots.builder().metricSnapshot(psi.build()).metricSnapshot(ks.build())
        .metricSnapshot(window.build()).build();
  }

  /**
   * Finds a version's reference file in the model repository: {@code <model>/<version>/reference.jsonl}
   * or {@code .jsonl.gz}, a regular file that does not lead outside the repository.
   */
  public static Function<ServedModel, Optional<Path>> referenceIn(Path repositoryRoot) {
    return model -> {
      try {
        Path root = repositoryRoot.toRealPath();
        Path dir = root.resolve(model.name()).resolve(Long.toString(model.version()));
        for (String name : ReferenceFile.NAMES) {
          Path file = dir.resolve(name);
          if (Files.isRegularFile(file) && file.toRealPath().startsWith(root)) {
            return Optional.of(file);
          }
        }
      } catch (IOException e) {
        log.debug("no drift reference for {}: {}", model.label(), e.toString());
      }
      return Optional.empty();
    };
  }

  @Override
  public void close() {
    loader.shutdownNow();
  }
}
