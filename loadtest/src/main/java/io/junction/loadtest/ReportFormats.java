package io.junction.loadtest;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * ghz's machine-readable outputs ({@code -O}): {@code json} (compact) and {@code pretty} (indented),
 * {@code csv} (one row per call), {@code influx-summary} and {@code influx-details} (InfluxDB line
 * protocol, ghz's measurements {@code ghz_run} and {@code ghz_detail}), and {@code prometheus} (the text
 * exposition: ghz's {@code ghz_run_*} gauges, a latency histogram and a latency summary, labelled with
 * the run's options). Written from ghz's documented formats, so the tools built on them read ours.
 */
final class ReportFormats {
  static final Set<String> ALL = Set.of("summary", "json", "pretty", "html", "csv", "influx-summary", "influx-details",
      "prometheus");
  /** The formats that list every call, for which the runner must keep them. */
  static final Set<String> WITH_DETAILS = Set.of("json", "pretty", "csv", "influx-details");

  private ReportFormats() {}

  static String render(Report r, String format) {
    return switch (format) {
      case "json" -> new Gson().toJson(r);
      case "pretty" -> new GsonBuilder().setPrettyPrinting().create().toJson(r);
      case "csv" -> csv(r);
      case "influx-summary" -> influxSummary(r);
      case "influx-details" -> influxDetails(r);
      case "prometheus" -> prometheus(r);
      default -> throw new IllegalArgumentException("no format " + format);
    };
  }

  private static String csv(Report r) {
    StringBuilder out = new StringBuilder("duration (ms),status,error\n");
    for (Map<String, Object> d : r.details) {
      out.append(String.format(Locale.ROOT, "%.2f", ((Number) d.get("latency")).longValue() / 1e6)).append(',')
          .append(d.get("status")).append(',').append(csvField(String.valueOf(d.get("error")))).append('\n');
    }
    return out.toString();
  }

  private static String csvField(String s) {
    return s.contains(",") || s.contains("\"") || s.contains("\n") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
  }

  private static long errors(Report r) {
    return r.errorDistribution.values().stream().mapToLong(Long::longValue).sum();
  }

  /** ghz's tags of a run: what was called, how, with which options. */
  private static String influxTags(Report r) {
    Map<String, Object> o = r.options;
    return "call=" + quoted(o.get("call")) + ",host=" + quoted(o.get("host")) + ",n=" + o.get("total")
        + ",c=" + o.get("concurrency") + ",qps=" + number(o.get("rps")) + ",z=" + r.total + ",timeout="
        + ((Number) o.get("timeout")).longValue() / 1_000_000_000L + ",model=" + quoted(o.get("model"));
  }

  private static String influxSummary(Report r) {
    long errors = errors(r);
    return "ghz_run," + influxTags(r) + ",errors=" + errors + ",has_errors=" + (errors > 0)
        + " count=" + r.count + ",total=" + r.total + ",average=" + r.average + ",fastest=" + r.fastest
        + ",slowest=" + r.slowest + ",rps=" + String.format(Locale.ROOT, "%.2f", r.rps) + ",median=" + percentile(r, 50)
        + ",p95=" + percentile(r, 95) + ",errors=" + errors + " " + epochNanos(r.date) + "\n";
  }

  private static String influxDetails(Report r) {
    String tags = influxTags(r);
    StringBuilder out = new StringBuilder();
    for (Map<String, Object> d : r.details) {
      String error = String.valueOf(d.get("error"));
      out.append("ghz_detail,").append(tags).append(",hasError=").append(!error.isEmpty())
          .append(" latency=").append(d.get("latency")).append(",error=").append(quoted(error))
          .append(",status=").append(quoted(d.get("status"))).append(' ')
          .append(epochNanos(String.valueOf(d.get("timestamp")))).append('\n');
    }
    return out.toString();
  }

  private static String prometheus(Report r) {
    String labels = "{" + promLabels(r) + "}";
    StringBuilder out = new StringBuilder();
    gauge(out, "ghz_run_count", labels, r.count);
    gauge(out, "ghz_run_total", labels, r.total);
    gauge(out, "ghz_run_average", labels, r.average);
    gauge(out, "ghz_run_fastest", labels, r.fastest);
    gauge(out, "ghz_run_slowest", labels, r.slowest);
    gauge(out, "ghz_run_rps", labels, r.rps);
    out.append("# TYPE ghz_run_histogram histogram\n");
    long cumulative = 0;
    String inner = promLabels(r);
    for (Map<String, Object> b : r.histogram) {
      cumulative += ((Number) b.get("count")).longValue();
      out.append("ghz_run_histogram_bucket{").append(inner).append(",le=\"").append(number(b.get("mark")))
          .append("\"} ").append(cumulative).append('\n');
    }
    out.append("ghz_run_histogram_bucket{").append(inner).append(",le=\"+Inf\"} ").append(r.count).append('\n');
    out.append("ghz_run_histogram_sum").append(labels).append(' ').append(r.total).append('\n');
    out.append("ghz_run_histogram_count").append(labels).append(' ').append(r.count).append('\n');
    out.append("# TYPE ghz_run_latency summary\n");
    for (Map<String, Object> p : r.latencyDistribution) {
      out.append("ghz_run_latency{").append(inner).append(",quantile=\"")
          .append(number(((Number) p.get("percentage")).doubleValue() / 100)).append("\"} ").append(p.get("latency"))
          .append('\n');
    }
    out.append("ghz_run_latency_sum").append(labels).append(' ').append(r.total).append('\n');
    out.append("ghz_run_latency_count").append(labels).append(' ').append(r.count).append('\n');
    gauge(out, "ghz_run_errors", labels, errors(r));
    return out.toString();
  }

  /** The run's end reason and options as labels, as ghz labels its metrics. */
  private static String promLabels(Report r) {
    Map<String, Object> labels = new TreeMap<>();
    labels.put("end_reason", r.endReason);
    r.options.forEach((k, v) -> labels.put(k.replace('-', '_'), v));
    return labels.entrySet().stream().filter(e -> e.getValue() != null)
        .map(e -> e.getKey() + "=\"" + String.valueOf(e.getValue() instanceof Double d ? number(d) : e.getValue())
            .replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"")
        .collect(Collectors.joining(","));
  }

  private static void gauge(StringBuilder out, String name, String labels, double value) {
    out.append("# TYPE ").append(name).append(" gauge\n").append(name).append(labels).append(' ')
        .append(number(value)).append('\n');
  }

  private static long percentile(Report r, int percentage) {
    return r.latencyDistribution.stream().filter(p -> ((Number) p.get("percentage")).intValue() == percentage)
        .mapToLong(p -> ((Number) p.get("latency")).longValue()).findFirst().orElse(0);
  }

  private static String number(Object value) {
    double d = ((Number) value).doubleValue();
    return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
  }

  /** A tag or field string in line protocol, as ghz writes them: quoted, with quotes and backslashes escaped. */
  private static String quoted(Object value) {
    return "\"" + String.valueOf(value).replace("\\", "\\\\").replace("\"", "\\\"").replace(" ", "\\ ")
        .replace(",", "\\,").replace("=", "\\=") + "\"";
  }

  private static long epochNanos(String timestamp) {
    Instant t = Instant.parse(timestamp);
    return t.getEpochSecond() * 1_000_000_000L + t.getNano();
  }

  static List<String> names() {
    return ALL.stream().sorted().toList();
  }
}
