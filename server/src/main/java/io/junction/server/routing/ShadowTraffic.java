package io.junction.server.routing;

import io.junction.server.concurrent.NamedThreadFactory;
import io.junction.server.scheduling.InferenceResult;
import io.junction.server.telemetry.Buckets;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.Semaphore;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * Mirrors a fraction of a route's answered requests to its shadow, off the primary's path: the
 * primary's answer is already on its way, and nothing the shadow does reaches the caller. Shadow
 * requests are sent from the {@code junction-shadow} thread, which this class owns. At most
 * {@code maxInFlight} of them are waiting for that thread, queued or running on the devices at once, so
 * a slow shadow takes a bounded share of them; more are dropped and counted. At {@link #close()} shadow requests still waiting are dropped
 * without running. Each shadow answer is compared with the primary's and recorded: latency by outcome,
 * the largest absolute difference, argmax agreement.
 */
public final class ShadowTraffic implements AutoCloseable {
  private final ThreadPoolExecutor executor;
  /** Shadow requests admitted to the devices and not finished. */
  private final Semaphore inFlight;
  private volatile boolean closed;
  private final Counter dropped;
  private final Histogram latency;
  private final Histogram difference;
  private final Counter argmax;

  /**
   * @param maxInFlight shadow requests that may be queued or running on the devices at once; more are dropped
   * @param metrics where shadow latency and agreement are exposed
   */
  public ShadowTraffic(int maxInFlight, PrometheusRegistry metrics) {
    this.inFlight = new Semaphore(maxInFlight);
    this.dropped = Counter.builder()
        .name("junction_shadow_dropped")
        .help("Shadow requests dropped without running: the shadow lagged behind, or the server was stopping")
        .labelNames("route", "model")
        .register(metrics);
    this.latency = Histogram.builder()
        .name("junction_shadow_duration_seconds")
        .help("Latency of shadow requests, by route, shadow model and outcome (dropped ones count as failures)")
        .labelNames("route", "model", "outcome")
        .classicUpperBounds(Buckets.LATENCY_SECONDS)
        .classicOnly()
        .register(metrics);
    this.difference = Histogram.builder()
        .name("junction_shadow_max_abs_diff")
        .help("Largest absolute difference between the shadow's and the primary's FP32 outputs, per request")
        .labelNames("route", "model")
        .classicUpperBounds(1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1, 10)
        .classicOnly()
        .register(metrics);
    this.argmax = Counter.builder()
        .name("junction_shadow_argmax_rows")
        .help("Rows compared between shadow and primary, by whether their argmax agreed")
        .labelNames("route", "model", "agree")
        .register(metrics);
    this.executor = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(maxInFlight),
        new NamedThreadFactory("junction-shadow", true), new ThreadPoolExecutor.AbortPolicy());
  }

  /** Whether this answered request of {@code route} should be mirrored (the route's fraction, drawn now). */
  public boolean sample(Route route) {
    return route.shadow().isPresent() && ThreadLocalRandom.current().nextDouble() < route.shadow().get().fraction();
  }

  /**
   * Runs {@code shadowCall} (the same request, sent to the route's shadow) later and compares its answer
   * with {@code primary}. The call is given a cancellation check that turns true at {@link #close()}, so a
   * shadow request still waiting then is dropped instead of run.
   */
  public void mirror(Route route, InferenceResult primary,
      Function<BooleanSupplier, CompletableFuture<InferenceResult>> shadowCall) {
    Shadow shadow = route.shadow().orElseThrow();
    if (closed || !inFlight.tryAcquire()) {
      drop(route.name(), shadow.model());
      return;
    }
    try {
      executor.execute(() -> {
        long start = System.nanoTime();
        CompletableFuture<InferenceResult> answer;
        try {
          answer = shadowCall.apply(() -> closed);
        } catch (RuntimeException e) {
          answer = CompletableFuture.failedFuture(e);
        }
        answer.whenComplete((result, failure) -> {
          inFlight.release();
          if (closed && failure != null) {
            drop(route.name(), shadow.model()); // dropped at shutdown, not a failure of the shadow
          } else if (failure != null) {
            record(route.name(), shadow.model(), false, System.nanoTime() - start, null);
          } else {
            try {
              record(route.name(), shadow.model(), true, System.nanoTime() - start, ShadowCompare.compare(primary, result));
            } finally {
              result.outputsMemory().release(); // compared: the shadow's outputs are read
            }
          }
        });
      });
    } catch (RejectedExecutionException e) {
      inFlight.release();
      drop(route.name(), shadow.model()); // the shadow lags behind, or the server is stopping
    }
  }

  private void drop(String route, String model) {
    dropped.labelValues(route, model).inc();
  }

  /** One shadow request finished; {@code comparison} is null when it failed. */
  private void record(String route, String model, boolean success, long nanos, ShadowComparison comparison) {
    latency.labelValues(route, model, success ? "success" : "failure").observe(nanos / 1e9);
    if (comparison != null) {
      if (!Double.isNaN(comparison.maxAbsDiff())) {
        difference.labelValues(route, model).observe(comparison.maxAbsDiff());
      }
      argmax.labelValues(route, model, "true").inc(comparison.argmaxAgreements());
      argmax.labelValues(route, model, "false").inc(comparison.rows() - comparison.argmaxAgreements());
    }
  }

  /** Drops shadow requests not yet sent, and those sent but not yet run. */
  @Override
  public void close() {
    closed = true;
    executor.shutdownNow();
  }
}
