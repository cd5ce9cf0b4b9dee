package io.junction.server.routing;

import io.junction.server.concurrent.NamedThreadFactory;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Duration;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drives the canaries of all routes: counts each step's requests, errors and latencies per variant
 * (fed as a {@link RouteObserver}), and on a timer ({@code junction-canary}, which it owns) promotes a
 * healthy canary to the next step or rolls a breaching one back to 0 % at once, by updating the route
 * in the {@link RouteRegistry}. A canary whose configuration changes starts again at its first step.
 *
 * <p>With a {@link CanaryStateFile}, each decision is saved, and restored at start for routes whose
 * canary spec is unchanged: a rolled-back canary does not get traffic again after a restart.
 */
public final class CanaryController implements RouteObserver, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(CanaryController.class);
  /** Requests a canary must have served in a step before its SLOs are judged, so one error is not a trend. */
  private static final long MIN_REQUESTS_TO_JUDGE = 10;

  /**
   * Where a canary stands. STARTING: put in (or changed) since the controller's last evaluation, which will take
   * its first step; only {@link #status} reports it.
   */
  public enum State { STARTING, PROGRESSING, PROMOTED, ROLLED_BACK }

  /** Decisions kept per canary for its history. */
  static final int HISTORY = 20;

  /** A decision that moved a canary: when, to what weight, and why. */
  public record Decision(long epochMillis, double weight, String what) {}

  /** What the controller knows of one route's canary, and the figures behind its last decision. */
  public record Status(String route, String canary, String baseline, State state, int step, double canaryWeight,
      long canaryRequests, long canaryErrors, double canaryP99Millis, long baselineRequests, long baselineErrors,
      double baselineP99Millis, String reason) {}

  private static final class Window {
    final LongAdder requests = new LongAdder();
    final LongAdder errors = new LongAdder();
    final Recorder latency = new Recorder(3);
    /** Latencies of the step so far; touched only by the timer thread. */
    final Histogram step = new Histogram(3);

    void record(boolean success, long nanos) {
      requests.increment();
      if (!success) {
        errors.increment();
      }
      latency.recordValue(Math.max(1, nanos / 1000));
    }

    double p99Millis() {
      step.add(latency.getIntervalHistogram());
      return step.getTotalCount() == 0 ? 0 : step.getValueAtPercentile(99) / 1000.0;
    }
  }

  private static final class Tracker {
    final Canary canary;
    volatile int step;
    volatile State state = State.PROGRESSING;
    volatile long stepStartNanos = System.nanoTime();
    volatile Window canaryWindow = new Window();
    volatile Window baselineWindow = new Window();
    volatile Status status;
    /** The canary's weight now, once set: laid over every reloaded table whose canary spec is unchanged. */
    volatile double weight = Double.NaN;
    /** Why the canary stands where it does: the status reason of the last decision. */
    volatile String decision = "";
    /** The decisions that moved the canary (start, steps, promotion, rollback), oldest first, bounded. */
    final Deque<Decision> history = new ConcurrentLinkedDeque<>();

    void remember(double weight, String what) {
      history.addLast(new Decision(System.currentTimeMillis(), weight, what));
      while (history.size() > HISTORY) {
        history.pollFirst();
      }
    }

    Tracker(Canary canary) {
      this.canary = canary;
    }
  }

  private final RouteRegistry routes;
  private final Map<String, Tracker> trackers = new ConcurrentHashMap<>();
  private final AtomicLong rollbacks = new AtomicLong();
  private final OutcomeEvidence outcomes;
  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(new NamedThreadFactory("junction-canary", true));
  private final Optional<CanaryStateFile> state;
  /** What was last saved; touched only by the timer thread. */
  private Map<String, CanaryStateFile.Saved> saved = Map.of();

  public CanaryController(RouteRegistry routes, Duration tick) {
    this(routes, tick, new PrometheusRegistry(), Optional.empty());
  }

  /**
   * @param metrics where the canaries expose their weight, step and rollbacks
   * @param state where decisions are saved and restored from; empty: they last as long as the process
   */
  public CanaryController(RouteRegistry routes, Duration tick, PrometheusRegistry metrics,
      Optional<CanaryStateFile> state) {
    this(routes, tick, metrics, state, OutcomeEvidence.NONE);
  }

  /** @param outcomes what feedback says about business outcomes, for canaries with a business SLO */
  public CanaryController(RouteRegistry routes, Duration tick, PrometheusRegistry metrics,
      Optional<CanaryStateFile> state, OutcomeEvidence outcomes) {
    this.routes = routes;
    this.outcomes = outcomes;
    this.state = state;
    state.ifPresent(this::restore);
    routes.overlay(this::keepDecisions);
    GaugeWithCallback.builder().name("junction_canary_weight")
        .help("Percent of its route's two variants' traffic the canary gets now").labelNames("route", "canary")
        .callback(cb -> statuses().forEach((route, s) -> cb.call(s.canaryWeight(), route, s.canary())))
        .register(metrics);
    GaugeWithCallback.builder().name("junction_canary_step")
        .help("1-based step of the canary; with junction_canary_state it tells where the rollout stands")
        .labelNames("route", "canary", "state")
        .callback(cb -> statuses().forEach((route, s) -> cb.call(s.step(), route, s.canary(), s.state().name())))
        .register(metrics);
    CounterWithCallback.builder().name("junction_canary_rollbacks")
        .help("Canaries rolled back to 0 % after an SLO breach")
        .callback(cb -> cb.call(rollbacks.get())).register(metrics);
    timer.scheduleWithFixedDelay(this::tick, tick.toMillis(), tick.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * Trackers for the decisions of the previous run, before any route table comes in: the overlay lays
   * their weights over the first table whose canary spec is the one saved; a changed spec starts again.
   */
  private void restore(CanaryStateFile file) {
    saved = file.load();
    saved.forEach((route, s) -> {
      Tracker t = new Tracker(s.canary());
      t.state = s.state();
      t.step = Math.min(s.step(), s.canary().steps().size() - 1);
      t.weight = s.weight();
      t.decision = s.decision();
      t.status = new Status(route, s.canary().variant(), s.canary().baseline(), s.state(), t.step + 1, s.weight(),
          0, 0, 0, 0, 0, 0, "restored after a restart: " + s.decision());
      trackers.put(route, t);
      log.info("route '{}': canary '{}' restored {} at {} % from {}", route, s.canary().variant(), s.state(),
          s.weight(), file.path());
    });
  }

  @Override
  public void routed(String route, String variant, boolean success, long nanos) {
    Tracker t = trackers.get(route);
    if (t == null || t.state != State.PROGRESSING) {
      return;
    }
    if (variant.equals(t.canary.variant())) {
      t.canaryWindow.record(success, nanos);
    } else if (variant.equals(t.canary.baseline())) {
      t.baselineWindow.record(success, nanos);
    }
  }

  /**
   * The route's canary as the controller last judged it; for a canary put in (or changed) since its last evaluation,
   * which starts it, STARTING (step 0, at the weight the route's variants give it until then), not none: an operator
   * who asks right after putting a route would otherwise read that it has no canary.
   */
  public Optional<Status> status(String route) {
    Tracker t = trackers.get(route);
    Optional<Route> current = routes.current().route(route);
    Optional<Canary> canary = current.flatMap(Route::canary);
    if (canary.isPresent() && (t == null || t.status == null || !t.canary.equals(canary.get()))) {
      Canary c = canary.get();
      double canaryWeight = current.get().variant(c.variant()).map(Variant::weight).orElse(0.0);
      double baselineWeight = current.get().variant(c.baseline()).map(Variant::weight).orElse(0.0);
      double share = canaryWeight + baselineWeight > 0 ? 100 * canaryWeight / (canaryWeight + baselineWeight) : 0;
      return Optional.of(new Status(route, c.variant(), c.baseline(), State.STARTING, 0, share, 0, 0, 0, 0, 0, 0,
          "not started yet: the controller starts it at " + c.steps().get(0) + " % at its next evaluation"));
    }
    return t == null ? Optional.empty() : Optional.ofNullable(t.status);
  }

  /** Canaries rolled back since start, over all routes. */
  /** The decisions that moved a route's canary, oldest first (the last {@value #HISTORY}). */
  public List<Decision> history(String route) {
    Tracker t = trackers.get(route);
    return t == null ? List.of() : List.copyOf(t.history);
  }

  public long rollbacks() {
    return rollbacks.get();
  }

  public Map<String, Status> statuses() {
    Map<String, Status> all = new TreeMap<>();
    trackers.forEach((name, t) -> {
      if (t.status != null) {
        all.put(name, t.status);
      }
    });
    return all;
  }

  private void tick() {
    try {
      for (Route route : routes.current().routes().values()) {
        if (route.canary().isEmpty()) {
          trackers.remove(route.name());
          continue;
        }
        Canary canary = route.canary().get();
        Tracker t = trackers.get(route.name());
        if (t == null || !t.canary.equals(canary)) {
          t = new Tracker(canary);
          trackers.put(route.name(), t);
          apply(route, t, canary.steps().get(0), "canary started at " + canary.steps().get(0) + " %");
          continue;
        }
        if (t.state == State.PROGRESSING) {
          judge(route, t);
        }
      }
      trackers.keySet().removeIf(name -> routes.current().route(name).isEmpty());
      state.ifPresent(this::persist);
    } catch (RuntimeException e) {
      log.error("canary evaluation failed; trying again at the next tick", e);
    }
  }

  /** Saves the decisions when one changed since the last save. */
  private void persist(CanaryStateFile file) {
    Map<String, CanaryStateFile.Saved> now = new TreeMap<>();
    trackers.forEach((route, t) -> {
      if (!Double.isNaN(t.weight)) {
        now.put(route, new CanaryStateFile.Saved(t.canary, t.state, t.step, t.weight, t.decision));
      }
    });
    if (!now.equals(saved)) {
      file.save(now);
      saved = now;
    }
  }

  private void judge(Route route, Tracker t) {
    Canary c = t.canary;
    long cReq = t.canaryWindow.requests.sum();
    long cErr = t.canaryWindow.errors.sum();
    long bReq = t.baselineWindow.requests.sum();
    long bErr = t.baselineWindow.errors.sum();
    double cP99 = t.canaryWindow.p99Millis();
    double bP99 = t.baselineWindow.p99Millis();
    double cRate = cReq == 0 ? 0 : (double) cErr / cReq;
    double bRate = bReq == 0 ? 0 : (double) bErr / bReq;
    String figures = String.format("canary %d requests, %d errors (%.2f %%), p99 %.2f ms; baseline %d requests, "
        + "%d errors (%.2f %%), p99 %.2f ms", cReq, cErr, 100 * cRate, cP99, bReq, bErr, 100 * bRate, bP99);
    // What the feedback says of the business outcome, read once per judgement (for the breach and the hold).
    Optional<OutcomeEvidence.Difference> evidence = c.businessSlo().map(slo ->
        outcomes.compare(route.name(), slo.outcome(), c.variant(), c.baseline(), slo.confidence()));
    if (cReq >= Math.min(MIN_REQUESTS_TO_JUDGE, c.minRequests())) {
      String breach = null;
      if (cRate - bRate > c.maxErrorRateIncrease()) {
        breach = String.format("error rate %.2f %% exceeds the baseline's %.2f %% by more than %.2f points",
            100 * cRate, 100 * bRate, 100 * c.maxErrorRateIncrease());
      } else if (bReq >= MIN_REQUESTS_TO_JUDGE && bP99 > 0 && cP99 > c.maxP99Ratio() * bP99) {
        breach = String.format("p99 %.2f ms exceeds %.1f x the baseline's %.2f ms", cP99, c.maxP99Ratio(), bP99);
      }
      if (breach == null && c.businessSlo().isPresent()) {
        breach = businessBreach(c.businessSlo().get(), evidence.get());
      }
      if (breach != null) {
        t.state = State.ROLLED_BACK;
        rollbacks.incrementAndGet();
        log.warn("route '{}': canary '{}' rolled back to 0 % at step {}: {} ({})", route.name(), c.variant(),
            t.step + 1, breach, figures);
        apply(route, t, 0, "rolled back: " + breach + "; " + figures, cReq, cErr, cP99, bReq, bErr, bP99);
        return;
      }
    }
    double elapsed = (System.nanoTime() - t.stepStartNanos) / 1e9;
    double weight = c.steps().get(t.step);
    String businessHold = c.businessSlo().map(slo -> businessHold(slo, evidence.get())).orElse(null);
    if (cReq >= c.minRequests() && elapsed >= c.minSeconds() && businessHold != null) {
      publish(route, t, weight, "holding step " + (t.step + 1) + " at " + weight + " %: " + businessHold + "; "
          + figures, cReq, cErr, cP99, bReq, bErr, bP99);
      return;
    }
    if (cReq >= c.minRequests() && elapsed >= c.minSeconds()) {
      if (t.step == c.steps().size() - 1) {
        t.state = State.PROMOTED;
        log.info("route '{}': canary '{}' promoted to {} % ({})", route.name(), c.variant(), weight, figures);
        t.decision = "promoted at " + weight + " %; " + figures;
        t.remember(weight, t.decision);
        publish(route, t, weight, t.decision, cReq, cErr, cP99, bReq, bErr, bP99);
        return;
      }
      t.step++;
      double next = c.steps().get(t.step);
      log.info("route '{}': canary '{}' healthy at {} %, now {} % ({})", route.name(), c.variant(), weight, next, figures);
      apply(route, t, next, "step " + (t.step + 1) + " at " + next + " % after " + figures);
      return;
    }
    publish(route, t, weight, "holding step " + (t.step + 1) + " at " + weight + " %; " + figures, cReq, cErr, cP99,
        bReq, bErr, bP99);
  }

  /** A breach of the business SLO: the canary is shown to be worse than the margin allows. */
  private static String businessBreach(Canary.BusinessSlo slo, OutcomeEvidence.Difference d) {
    if (d.variantCount() < slo.minSamples() || d.baselineCount() < slo.minSamples() || Double.isNaN(d.high())
        || d.high() >= -slo.maxDecrease()) {
      return null;
    }
    return String.format("business SLO: its '%s' is below the baseline's by more than %s (difference %.4f, %.0f %% "
        + "interval [%.4f, %.4f], %d and %d values)", slo.outcome(), slo.maxDecrease(), d.difference(),
        100 * slo.confidence(), d.low(), d.high(), d.variantCount(), d.baselineCount());
  }

  /** Why the business SLO does not yet allow promotion, or null when it does. */
  private static String businessHold(Canary.BusinessSlo slo, OutcomeEvidence.Difference d) {
    if (d.variantCount() < slo.minSamples() || d.baselineCount() < slo.minSamples()) {
      return String.format("business SLO needs %d '%s' values per variant (canary %d, baseline %d)",
          slo.minSamples(), slo.outcome(), d.variantCount(), d.baselineCount());
    }
    if (Double.isNaN(d.low()) || d.low() < -slo.maxDecrease()) {
      return String.format("not yet shown that its '%s' is at most %s below the baseline's (difference %.4f, "
          + "%.0f %% interval [%.4f, %.4f])", slo.outcome(), slo.maxDecrease(), d.difference(), 100 * slo.confidence(),
          d.low(), d.high());
    }
    return null;
  }

  private void apply(Route route, Tracker t, double canaryWeight, String reason) {
    apply(route, t, canaryWeight, reason, 0, 0, 0, 0, 0, 0);
  }

  private void apply(Route route, Tracker t, double canaryWeight, String reason, long cReq, long cErr, double cP99,
      long bReq, long bErr, double bP99) {
    Canary c = t.canary;
    double before = t.weight;
    t.weight = canaryWeight; // before the update, which lays the tracked weight over the table
    try {
      routes.put(route.withWeights(c.variant(), canaryWeight, c.baseline(), 100 - canaryWeight));
    } catch (IllegalArgumentException e) {
      t.weight = before;
      log.error("route '{}': cannot set canary weight {}: {}", route.name(), canaryWeight, e.getMessage());
      return;
    }
    t.decision = reason;
    t.remember(canaryWeight, reason);
    t.stepStartNanos = System.nanoTime();
    t.canaryWindow = new Window();
    t.baselineWindow = new Window();
    publish(route, t, canaryWeight, reason, cReq, cErr, cP99, bReq, bErr, bP99);
  }

  /**
   * A table with each tracked canary at the weight its controller set, where the table's canary spec is
   * the one tracked: an edit elsewhere in the routes file must not undo a rollback or a promotion. A
   * changed spec starts the canary again (at the next tick), as before.
   */
  private RouteTable keepDecisions(RouteTable table) {
    Map<String, Route> kept = null;
    for (Route r : table.routes().values()) {
      Tracker t = trackers.get(r.name());
      if (t == null || Double.isNaN(t.weight) || r.canary().isEmpty() || !r.canary().get().equals(t.canary)) {
        continue;
      }
      if (kept == null) {
        kept = new LinkedHashMap<>(table.routes());
      }
      kept.put(r.name(), r.withWeights(t.canary.variant(), t.weight, t.canary.baseline(), 100 - t.weight));
    }
    return kept == null ? table : new RouteTable(kept);
  }

  private static void publish(Route route, Tracker t, double weight, String reason, long cReq, long cErr, double cP99,
      long bReq, long bErr, double bP99) {
    t.status = new Status(route.name(), t.canary.variant(), t.canary.baseline(), t.state, t.step + 1, weight, cReq, cErr,
        cP99, bReq, bErr, bP99, reason);
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
