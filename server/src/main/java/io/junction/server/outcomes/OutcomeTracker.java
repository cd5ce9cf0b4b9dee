package io.junction.server.outcomes;

import io.junction.server.inference.InferenceListener;
import io.junction.server.inference.InferenceOutcome;
import io.junction.server.routing.ConversionCounts;
import io.junction.server.routing.OutcomeEvidence;
import io.junction.server.routing.RouteDecision;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Pattern;

/**
 * Business outcomes per route variant: remembers which variant answered each routed request (a
 * {@link RequestLedger}, fed as an {@link InferenceListener}), joins feedback to it, and keeps each
 * variant's count, mean and variance per outcome, from which {@link #report} computes intervals and
 * comparisons with the route's first variant.
 */
public final class OutcomeTracker implements InferenceListener, OutcomeEvidence, ConversionCounts {
  /** Outcome names: short, and safe as metric label values and in JSON. */
  private static final Pattern OUTCOME_NAME = Pattern.compile("[A-Za-z0-9_.-]{1,64}");
  /** Distinct outcomes per route, so a client cannot grow the metrics without bound. */
  static final int MAX_OUTCOMES_PER_ROUTE = 16;
  private static final int MAX_PROBLEMS = 10;

  private record Key(String route, String variant, String outcome) {}

  private final RequestLedger ledger;
  private final Map<Key, OutcomeAccumulator> stats = new ConcurrentHashMap<>();
  private final Map<String, Set<String>> outcomesByRoute = new ConcurrentHashMap<>();
  private final LongAdder accepted = new LongAdder();
  private final LongAdder unknown = new LongAdder();
  private final LongAdder expired = new LongAdder();
  private final LongAdder rejected = new LongAdder();

  /**
   * @param ledgerCapacity recent requests remembered
   * @param ledgerTtl how long after its answer a request's feedback is still joined
   */
  public OutcomeTracker(int ledgerCapacity, Duration ledgerTtl, PrometheusRegistry metrics) {
    this.ledger = new RequestLedger(ledgerCapacity, ledgerTtl);
    CounterWithCallback.builder().name("junction_outcome")
        .help("Feedback values recorded per route, variant and outcome").labelNames("route", "variant", "outcome")
        .callback(cb -> stats.forEach((k, a) -> cb.call(a.count(), k.route(), k.variant(), k.outcome())))
        .register(metrics);
    GaugeWithCallback.builder().name("junction_outcome_value_sum")
        .help("Sum of the feedback values per route, variant and outcome; divided by junction_outcome_total, the mean")
        .labelNames("route", "variant", "outcome")
        .callback(cb -> stats.forEach((k, a) -> cb.call(a.sum(), k.route(), k.variant(), k.outcome())))
        .register(metrics);
    CounterWithCallback.builder().name("junction_feedback")
        .help("Feedback items by result: accepted, unknown or expired request id, rejected as malformed")
        .labelNames("result")
        .callback(cb -> {
          cb.call(accepted.sum(), "accepted");
          cb.call(unknown.sum(), "unknown");
          cb.call(expired.sum(), "expired");
          cb.call(rejected.sum(), "rejected");
        })
        .register(metrics);
  }

  /** Nothing to do: the request was remembered before its answer went out ({@link #answering}). */
  @Override
  public void completed(InferenceOutcome outcome) {}

  /**
   * Remembers which variant answered a routed request, before the answer goes out: a caller may send feedback
   * about it as soon as it has the answer.
   */
  @Override
  public void answering(InferenceOutcome outcome) {
    RouteDecision d = outcome.route();
    if (d == null || !outcome.succeeded()) {
      return;
    }
    String route = d.route().name();
    String variant = d.variant().name();
    // One key per call, so the ledger holds as many calls as it can: the caller's id when it gave one,
    // else the trace id it got back.
    String id = !outcome.call().id().isEmpty() ? outcome.call().id() : outcome.traceId();
    if (id != null) {
      ledger.record(id, route, variant);
    }
  }

  public FeedbackResult record(List<Feedback> items) {
    long ok = 0;
    long notKnown = 0;
    long tooOld = 0;
    long bad = 0;
    List<String> problems = new ArrayList<>();
    RequestLedger.Assignment[] found = new RequestLedger.Assignment[1];
    for (Feedback f : items) {
      String problem = problem(f);
      if (problem == null) {
        RequestLedger.Lookup lookup = ledger.find(f.requestId(), found);
        if (lookup == RequestLedger.Lookup.UNKNOWN) {
          notKnown++;
          continue;
        }
        if (lookup == RequestLedger.Lookup.EXPIRED) {
          tooOld++;
          continue;
        }
        RequestLedger.Assignment a = found[0];
        Set<String> outcomes = outcomesByRoute.computeIfAbsent(a.route(), r -> ConcurrentHashMap.newKeySet());
        synchronized (outcomes) {
          if (!outcomes.contains(f.outcome()) && outcomes.size() >= MAX_OUTCOMES_PER_ROUTE) {
            problem = "route '" + a.route() + "' already has " + MAX_OUTCOMES_PER_ROUTE + " outcomes "
                + new TreeSet<>(outcomes) + "; '" + f.outcome() + "' is one too many";
          } else {
            outcomes.add(f.outcome());
          }
        }
        if (problem == null) {
          stats.computeIfAbsent(new Key(a.route(), a.variant(), f.outcome()), k -> new OutcomeAccumulator())
              .add(f.value());
          ok++;
          continue;
        }
      }
      bad++;
      if (problems.size() < MAX_PROBLEMS) {
        problems.add(problem);
      }
    }
    accepted.add(ok);
    unknown.add(notKnown);
    expired.add(tooOld);
    rejected.add(bad);
    return new FeedbackResult(ok, notKnown, tooOld, bad, List.copyOf(problems));
  }

  private static String problem(Feedback f) {
    if (f.requestId() == null || f.requestId().isEmpty() || f.requestId().length() > 256) {
      return "feedback needs a request_id of 1 to 256 characters";
    }
    if (f.outcome() == null || !OUTCOME_NAME.matcher(f.outcome()).matches()) {
      return "feedback for request '" + f.requestId() + "': outcome must be 1 to 64 letters, digits, '_', '.' or "
          + "'-', got '" + f.outcome() + "'";
    }
    if (!Double.isFinite(f.value())) {
      return "feedback for request '" + f.requestId() + "': value of '" + f.outcome() + "' must be a finite number";
    }
    return null;
  }

  /** Each variant's summary of one outcome of a route. */
  public Map<String, OutcomeSummary> summaries(String route, String outcome) {
    Map<String, OutcomeSummary> byVariant = new TreeMap<>();
    stats.forEach((k, a) -> {
      if (k.route().equals(route) && k.outcome().equals(outcome)) {
        byVariant.put(k.variant(), a.summary());
      }
    });
    return byVariant;
  }

  /**
   * A route's outcomes: per outcome and variant, the summary and its interval; every variant after the
   * first compared with the first (the control).
   *
   * @param variants the route's variants in order, the control first
   */
  public RouteOutcomes report(String route, List<String> variants, double confidence) {
    Map<String, List<RouteOutcomes.VariantOutcome>> perOutcome = new LinkedHashMap<>();
    Map<String, List<RouteOutcomes.VariantComparison>> comparisons = new LinkedHashMap<>();
    for (String outcome : outcomesByRoute.getOrDefault(route, Set.of()).stream().sorted().toList()) {
      Map<String, OutcomeSummary> byVariant = summaries(route, outcome);
      List<RouteOutcomes.VariantOutcome> rows = new ArrayList<>();
      for (String v : variants) {
        OutcomeSummary s = byVariant.getOrDefault(v, OutcomeSummary.EMPTY);
        rows.add(new RouteOutcomes.VariantOutcome(v, s, AbStatistics.meanInterval(s, confidence)));
      }
      perOutcome.put(outcome, rows);
      List<RouteOutcomes.VariantComparison> vs = new ArrayList<>();
      if (!variants.isEmpty()) {
        OutcomeSummary control = byVariant.getOrDefault(variants.get(0), OutcomeSummary.EMPTY);
        for (String v : variants.subList(1, variants.size())) {
          vs.add(new RouteOutcomes.VariantComparison(v, variants.get(0),
              AbStatistics.compare(byVariant.getOrDefault(v, OutcomeSummary.EMPTY), control, confidence)));
        }
      }
      comparisons.put(outcome, vs);
    }
    return new RouteOutcomes(route, confidence, perOutcome, comparisons);
  }

  /** The feedback's verdict on one variant's outcome against another's, for canaries' business SLOs. */
  @Override
  public Difference compare(String route, String outcome, String variant, String baseline, double confidence) {
    Map<String, OutcomeSummary> byVariant = summaries(route, outcome);
    OutcomeSummary v = byVariant.getOrDefault(variant, OutcomeSummary.EMPTY);
    OutcomeSummary b = byVariant.getOrDefault(baseline, OutcomeSummary.EMPTY);
    AbStatistics.Comparison c = AbStatistics.compare(v, b, confidence);
    return new Difference(v.count(), b.count(), c.difference(), c.interval().low(), c.interval().high());
  }

  /** Conversions per variant of a binary outcome, for bandit routes; variants whose values are not all 0 or 1 are left out. */
  @Override
  public Map<String, Tally> of(String route, String outcome) {
    Map<String, Tally> tallies = new TreeMap<>();
    summaries(route, outcome).forEach((variant, s) -> {
      if (s.binary() && s.count() > 0) {
        tallies.put(variant, new Tally(s.successes(), s.count()));
      }
    });
    return tallies;
  }

  /** Requests remembered now. */
  public int remembered() {
    return ledger.size();
  }
}
