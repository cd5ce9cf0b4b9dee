package io.junction.server.routing;

import io.junction.server.concurrent.NamedThreadFactory;
import io.junction.server.scheduling.InferenceResult;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Mirrors a fraction of a route's answered requests to its shadow, off the primary's path: the
 * primary's answer is already on its way, and nothing the shadow does reaches the caller. Shadow
 * requests wait in a bounded queue on the {@code junction-shadow} thread, which this class owns; when
 * the shadow lags behind they are dropped and counted as failed. Each shadow answer is compared with
 * the primary's and reported to the {@link RouteObserver}.
 */
public final class ShadowTraffic implements AutoCloseable {
  private final RouteObserver observer;
  private final ThreadPoolExecutor executor;

  /** @param queueSize shadow requests that may wait; more are dropped */
  public ShadowTraffic(RouteObserver observer, int queueSize) {
    this.observer = observer;
    this.executor = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(queueSize),
        new NamedThreadFactory("junction-shadow", true), new ThreadPoolExecutor.AbortPolicy());
  }

  /** Whether this answered request of {@code route} should be mirrored (the route's fraction, drawn now). */
  public boolean sample(Route route) {
    return route.shadow().isPresent() && ThreadLocalRandom.current().nextDouble() < route.shadow().get().fraction();
  }

  /**
   * Runs {@code shadowCall} (the same request, sent to the route's shadow) later and compares its answer
   * with {@code primary}.
   */
  public void mirror(Route route, InferenceResult primary, Supplier<CompletableFuture<InferenceResult>> shadowCall) {
    Shadow shadow = route.shadow().orElseThrow();
    try {
      executor.execute(() -> {
        long start = System.nanoTime();
        CompletableFuture<InferenceResult> answer;
        try {
          answer = shadowCall.get();
        } catch (RuntimeException e) {
          answer = CompletableFuture.failedFuture(e);
        }
        answer.whenComplete((result, failure) -> observer.shadowed(route.name(), shadow.model(), failure == null,
            System.nanoTime() - start, failure == null ? ShadowCompare.compare(primary, result) : null));
      });
    } catch (RejectedExecutionException e) {
      observer.shadowed(route.name(), shadow.model(), false, 0, null); // dropped: the shadow lags behind
    }
  }

  /** Drops shadow requests not yet started. */
  @Override
  public void close() {
    executor.shutdownNow();
  }
}
