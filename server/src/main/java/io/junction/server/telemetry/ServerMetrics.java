package io.junction.server.telemetry;

import com.sun.management.OperatingSystemMXBean;
import io.junction.server.http.HttpEndpoint;
import io.netty.util.internal.PlatformDependent;
import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.expositionformats.ExpositionFormats;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.util.regex.Pattern;

/**
 * The Prometheus exposition for {@code /metrics}: one registry, owned here (no global state), into
 * which every component registers the instruments it records itself (the scheduler its queue and
 * batch sizes, the models their Triton counters, the pager its budget, the canaries and shadows
 * theirs, the request listeners latency), plus JVM and process metrics.
 */
public final class ServerMetrics implements HttpEndpoint.Metrics {
  /** Prometheus' protobuf media range in an Accept header, with its parameters and the comma after it. */
  private static final Pattern PROTOBUF_MEDIA_RANGE =
      Pattern.compile("application/vnd\\.google\\.protobuf[^,]*,?\\s*", Pattern.CASE_INSENSITIVE);

  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();
  /** The client library's formats, chosen by the scraper's Accept header (text, OpenMetrics, protobuf). */
  private final ExpositionFormats formats =
      ExpositionFormats.init();

  public ServerMetrics() {
    JvmMetrics.builder().register(registry);
    // Netty allocates its network buffers outside the JVM's buffer pools, so jvm_buffer_pool_* misses them.
    GaugeWithCallback.builder().name("junction_netty_direct_memory_bytes")
        .help("Direct memory held by Netty's allocators (network buffers); -1 where Netty does not count it")
        .callback(cb -> cb.call(PlatformDependent.usedDirectMemory())).register(registry);
    registerTritonCpuMetrics();
  }

  /** Triton's host metrics, so its dashboards' CPU panels fill in: the whole machine's, as Triton reports them. */
  private void registerTritonCpuMetrics() {
    if (!(ManagementFactory.getOperatingSystemMXBean()
        instanceof OperatingSystemMXBean os)) {
      return; // a JVM without the extended bean: no host figures
    }
    GaugeWithCallback.builder().name("nv_cpu_utilization")
        .help("CPU utilization rate [0.0 - 1.0]")
        .callback(cb -> cb.call(Math.max(0, os.getCpuLoad()))).register(registry);
    GaugeWithCallback.builder().name("nv_cpu_memory_total_bytes")
        .help("CPU total memory (RAM), in bytes")
        .callback(cb -> cb.call(os.getTotalMemorySize())).register(registry);
    GaugeWithCallback.builder().name("nv_cpu_memory_used_bytes")
        .help("CPU used memory (RAM), in bytes")
        .callback(cb -> cb.call(os.getTotalMemorySize() - os.getFreeMemorySize())).register(registry);
  }

  /** Where components register their instruments. */
  public PrometheusRegistry registry() {
    return registry;
  }

  @Override
  public String contentType() {
    return writer.getContentType();
  }

  @Override
  public HttpEndpoint.Scrape scrape(String accept) throws IOException {
    var format = formats.findWriter(accept);
    if (!format.isAvailable()) {
      // Prometheus' protobuf format, which this build leaves out (Prometheus asks for it first where native histograms
      // are on, then for text): answered in the best text format the client also takes, as content negotiation does.
      format = formats.findWriter(accept == null ? null : PROTOBUF_MEDIA_RANGE.matcher(accept).replaceAll(""));
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(16 * 1024);
    format.write(out, registry.scrape(), EscapingScheme.fromAcceptHeader(accept,
        EscapingScheme.ALLOW_UTF8));
    byte[] body = format instanceof PrometheusTextFormatWriter ? TritonMetricTypes.typed(out.toByteArray())
        : out.toByteArray();
    return new HttpEndpoint.Scrape(format.getContentType(), body);
  }

  /** The text exposition of every metric now. */
  @Override
  public byte[] scrape() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream(16 * 1024);
    writer.write(out, registry.scrape(), EscapingScheme.ALLOW_UTF8);
    return TritonMetricTypes.typed(out.toByteArray());
  }
}
