package io.junction.server.inference;

import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * The response cache's own metrics, read from it at each scrape: what it holds, what it evicted and what it did not
 * keep. Hits and misses are per model, in Triton's {@code nv_cache_*} series.
 */
public final class ResponseCacheMetrics {
  private ResponseCacheMetrics() {}

  public static void register(ResponseCache cache, PrometheusRegistry registry) {
    GaugeWithCallback.builder().name("junction_response_cache_bytes")
        .help("Bytes the response cache holds (requests' inputs and their answers), and its size")
        .labelNames("kind")
        .callback(cb -> {
          cb.call(cache.bytes(), "used");
          cb.call(cache.maxBytes(), "size");
        }).register(registry);
    GaugeWithCallback.builder().name("junction_response_cache_entries")
        .help("Answers the response cache holds").callback(cb -> cb.call(cache.entries()))
        .register(registry);
    CounterWithCallback.builder().name("junction_response_cache_evictions")
        .help("Answers evicted from the response cache to make room").callback(cb -> cb.call(cache.evictions()))
        .register(registry);
    CounterWithCallback.builder().name("junction_response_cache_deferred")
        .help("Answers a full response cache did not keep because their request (16 KiB or more) missed for the "
            + "first time; it keeps them from the second").callback(cb -> cb.call(cache.deferred()))
        .register(registry);
  }
}
