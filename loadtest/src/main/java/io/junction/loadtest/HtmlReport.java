package io.junction.loadtest;

import static io.junction.loadtest.Svg.BOTTOM;
import static io.junction.loadtest.Svg.H;
import static io.junction.loadtest.Svg.LEFT;
import static io.junction.loadtest.Svg.RIGHT;
import static io.junction.loadtest.Svg.W;
import static io.junction.loadtest.Svg.axes;
import static io.junction.loadtest.Svg.esc;
import static io.junction.loadtest.Svg.svgStart;
import static io.junction.loadtest.Svg.x;
import static io.junction.loadtest.Svg.xTicks;
import static io.junction.loadtest.Svg.y;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * One self-contained HTML page (inline SVG, no scripts, nothing fetched): latency over time (p50, p99),
 * throughput over time, the calls started per second (scheduled runs), the latency histogram on a log
 * scale, the answers per route variant, and the run's options. Every chart has titled axes with units;
 * seconds without answers are drawn as zero throughput and as gaps in latency, so an outage shows; when
 * the first seconds (client and server warming up) would set the latency scale, they are clipped and the
 * page says so.
 */
final class HtmlReport {
  /** Seconds at the start of a run that may not set the latency scale on their own. */
  private static final int WARM_SECONDS = 2;

  private HtmlReport() {}

  static String render(Report r) {
    StringBuilder html = new StringBuilder();
    html.append("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Junction load test</title><style>")
        .append("body{font-family:sans-serif;margin:24px;color:#222}h1{font-size:20px}h2{font-size:16px;margin-top:28px}")
        .append("table{border-collapse:collapse}td,th{padding:4px 10px;border-bottom:1px solid #ddd;text-align:right}")
        .append("svg{background:#fafafa;border:1px solid #ddd}.p50{stroke:#1f77b4}.p99{stroke:#d62728}")
        .append(".note{color:#a15c00}</style></head><body>");
    html.append("<h1>Junction load test — ").append(esc(String.valueOf(r.options.get("model")))).append(" @ ")
        .append(esc(String.valueOf(r.options.get("host")))).append("</h1>");
    html.append("<table><tr><th>requests</th><th>total</th><th>rps</th><th>average</th><th>fastest</th><th>slowest</th></tr><tr>")
        .append(td(r.count)).append(td(String.format(Locale.ROOT, "%.2f s", r.total / 1e9)))
        .append(td(String.format(Locale.ROOT, "%.1f", r.rps))).append(td(ms(r.average))).append(td(ms(r.fastest)))
        .append(td(ms(r.slowest))).append("</tr></table>");

    // A run of -z 5s lasts a few milliseconds more: that sliver is not a sixth second without answers.
    int seconds = (int) Math.max(1, Math.ceil(r.total / 1e9 - 0.05));
    Double[] p50 = new Double[seconds];
    Double[] p99 = new Double[seconds];
    double[] answers = new double[seconds];
    for (Map<String, Object> point : r.series) {
      int s = ((Number) point.get("second")).intValue();
      if (s >= 0 && s < seconds) {
        p50[s] = ((Number) point.get("p50")).doubleValue() / 1e6;
        p99[s] = ((Number) point.get("p99")).doubleValue() / 1e6;
        answers[s] = ((Number) point.get("count")).doubleValue();
      }
    }
    html.append("<h2>Latency over time (blue p50, red p99)</h2>");
    html.append(latencyChart(p50, p99));
    html.append("<h2>Throughput over time</h2>");
    html.append(barChart(answers, i -> Integer.toString(i), "seconds into the run", "answers per second", false));
    if (!r.timeline.isEmpty()) {
      double[] started = new double[seconds];
      r.timeline.forEach(p -> {
        int s = ((Number) p.get("second")).intValue();
        if (s >= 0 && s < seconds) {
          started[s] = ((Number) p.get("started")).doubleValue();
        }
      });
      html.append("<h2>Calls started per second (the schedule)</h2>");
      html.append(barChart(started, i -> Integer.toString(i), "seconds into the run", "calls started per second", false));
    }
    html.append("<h2>Latency histogram (log scale)</h2>");
    double[] counts = r.logHistogram.stream().mapToDouble(b -> ((Number) b.get("count")).doubleValue()).toArray();
    List<String> bounds = r.logHistogram.stream().map(b -> ms(((Number) b.get("le")).longValue()).replace(" ms", ""))
        .toList();
    html.append(barChart(counts, bounds::get, "latency up to (ms), buckets growing by √2", "calls", true));
    html.append("<h2>Latency distribution</h2><table><tr><th>percentile</th><th>latency</th></tr>");
    List<Map<String, Object>> percentiles = new ArrayList<>(r.latencyDistribution);
    percentiles.addAll(r.latencyDistributionExtra);
    percentiles.forEach(p -> html.append("<tr>").append(td(p.get("percentage") + " %"))
        .append(td(ms(((Number) p.get("latency")).longValue()))).append("</tr>"));
    html.append("</table>");
    if (!r.variants.isEmpty()) {
      html.append("<h2>Answers per variant</h2><table><tr><th>variant</th><th>answers</th><th>share</th></tr>");
      long all = r.variants.values().stream().mapToLong(Long::longValue).sum();
      r.variants.forEach((v, n) -> html.append("<tr>").append(td(esc(v))).append(td(n))
          .append(td(String.format(Locale.ROOT, "%.1f %%", 100.0 * n / Math.max(1, all)))).append("</tr>"));
      html.append("</table>");
    }
    html.append("<h2>Status codes</h2><table>");
    r.statusCodeDistribution.forEach((c, n) -> html.append("<tr>").append(td(esc(c))).append(td(n)).append("</tr>"));
    html.append("</table>");
    if (!r.errorDistribution.isEmpty()) {
      html.append("<h2>Errors</h2><table>");
      r.errorDistribution.forEach((e, n) -> html.append("<tr>").append(td(n)).append("<td style=\"text-align:left\">")
          .append(esc(e)).append("</td></tr>"));
      html.append("</table>");
    }
    html.append("<h2>Options</h2><table>");
    r.options.forEach((k, v) -> html.append("<tr><th style=\"text-align:left\">").append(esc(k)).append("</th>")
        .append(td(esc(String.valueOf(v)))).append("</tr>"));
    html.append("</table>");
    return html.append("<p style=\"color:#888\">").append(esc(r.date)).append(", end reason ").append(esc(r.endReason))
        .append("</p></body></html>").toString();
  }

  /** p50 and p99 per second, with gaps where no call was answered; the warm-up seconds never set the scale alone. */
  private static String latencyChart(Double[] p50, Double[] p99) {
    int n = p99.length;
    double all = 0;
    double settled = 0;
    for (int i = 0; i < n; i++) {
      if (p99[i] != null) {
        all = Math.max(all, p99[i]);
        if (i >= WARM_SECONDS) {
          settled = Math.max(settled, p99[i]);
        }
      }
    }
    boolean clipped = n > 2 * WARM_SECONDS && settled > 0 && all > 2 * settled;
    double max = Math.max(clipped ? settled * 1.1 : all, 0.001);
    StringBuilder svg = svgStart();
    svg.append(axes(max, "latency (ms)", "seconds into the run", false));
    xTicks(svg, n, i -> Integer.toString(i));
    for (Object[] line : new Object[][] {{"p50", p50}, {"p99", p99}}) {
      Double[] values = (Double[]) line[1];
      StringBuilder points = new StringBuilder();
      for (int i = 0; i <= n; i++) {
        if (i < n && values[i] != null) {
          points.append(String.format(Locale.ROOT, "%.1f,%.1f ", x(i, n), y(Math.min(values[i], max), max)));
        } else if (points.length() > 0) { // a second without answers ends the line: a gap, not a fall to zero
          svg.append("<polyline fill=\"none\" stroke-width=\"2\" class=\"").append(line[0]).append("\" points=\"")
              .append(points).append("\"/>");
          points.setLength(0);
        }
      }
    }
    svg.append("</svg>");
    if (clipped) {
      svg.append(String.format(Locale.ROOT, "<p class=\"note\">The first %d seconds reached %.2f ms (p99); the scale "
          + "is set by the rest of the run, and higher points are drawn at its top.</p>", WARM_SECONDS, all));
    }
    return svg.toString();
  }

  private static String barChart(double[] values, IntFunction<String> label, String xTitle,
      String yTitle, boolean edges) {
    double max = 1;
    for (double v : values) {
      max = Math.max(max, v);
    }
    StringBuilder svg = svgStart();
    svg.append(axes(max, yTitle, xTitle, true));
    int n = Math.max(1, values.length);
    double width = (W - LEFT - RIGHT) / (double) n;
    for (int i = 0; i < values.length; i++) {
      double top = y(values[i], max);
      svg.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#1f77b4\"/>",
          LEFT + i * width + 1, top, Math.max(1, width - 2), H - BOTTOM - top));
    }
    int every = n <= 20 ? 1 : n / 10 + 1;
    for (int i = 0; i < values.length; i += every) {
      double at = edges ? LEFT + (i + 1) * width : LEFT + (i + 0.5) * width;
      svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" font-size=\"10\" text-anchor=\"middle\">%s</text>",
          at, H - BOTTOM + 14, esc(label.apply(i))));
    }
    return svg.append("</svg>").toString();
  }

  private static String td(Object v) {
    return "<td>" + v + "</td>";
  }

  private static String ms(long nanos) {
    return String.format(Locale.ROOT, "%.2f ms", nanos / 1e6);
  }

}
