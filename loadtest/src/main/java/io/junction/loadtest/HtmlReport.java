package io.junction.loadtest;

import java.util.List;
import java.util.Map;

/**
 * One self-contained HTML page (inline SVG, no scripts, nothing fetched): latency over time (p50, p99),
 * throughput over time, the latency histogram, and the answers per route variant.
 */
final class HtmlReport {
  private static final int W = 720;
  private static final int H = 220;
  private static final int PAD = 40;

  private HtmlReport() {}

  static String render(Report r) {
    StringBuilder html = new StringBuilder();
    html.append("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Junction load test</title><style>")
        .append("body{font-family:sans-serif;margin:24px;color:#222}h1{font-size:20px}h2{font-size:16px;margin-top:28px}")
        .append("table{border-collapse:collapse}td,th{padding:4px 10px;border-bottom:1px solid #ddd;text-align:right}")
        .append("svg{background:#fafafa;border:1px solid #ddd}.p50{stroke:#1f77b4}.p99{stroke:#d62728}")
        .append("</style></head><body>");
    html.append("<h1>Junction load test — ").append(esc(String.valueOf(r.options.get("model")))).append(" @ ")
        .append(esc(String.valueOf(r.options.get("target")))).append("</h1>");
    html.append("<table><tr><th>requests</th><th>total</th><th>rps</th><th>average</th><th>fastest</th><th>slowest</th></tr><tr>")
        .append(td(r.count)).append(td(String.format("%.2f s", r.total / 1e9))).append(td(String.format("%.1f", r.rps)))
        .append(td(ms(r.average))).append(td(ms(r.fastest))).append(td(ms(r.slowest))).append("</tr></table>");

    List<Map<String, Object>> series = r.series;
    html.append("<h2>Latency over time (ms; blue p50, red p99)</h2>");
    html.append(lineChart(series));
    html.append("<h2>Throughput over time (answers per second)</h2>");
    html.append(barChart(series.stream().map(p -> ((Number) p.get("count")).doubleValue()).toList(),
        series.stream().map(p -> String.valueOf(p.get("second"))).toList()));
    html.append("<h2>Latency histogram</h2>");
    html.append(barChart(r.histogram.stream().map(b -> ((Number) b.get("count")).doubleValue()).toList(),
        r.histogram.stream().map(b -> String.format("%.2f", ((Number) b.get("mark")).doubleValue() * 1000)).toList()));
    html.append("<h2>Latency distribution</h2><table><tr><th>percentile</th><th>latency</th></tr>");
    r.latencyDistribution.forEach(p -> html.append("<tr>").append(td(p.get("percentage") + " %"))
        .append(td(ms(((Number) p.get("latency")).longValue()))).append("</tr>"));
    html.append("</table>");
    if (!r.variants.isEmpty()) {
      html.append("<h2>Answers per variant</h2><table><tr><th>variant</th><th>answers</th><th>share</th></tr>");
      long all = r.variants.values().stream().mapToLong(Long::longValue).sum();
      r.variants.forEach((v, n) -> html.append("<tr>").append(td(esc(v))).append(td(n))
          .append(td(String.format("%.1f %%", 100.0 * n / Math.max(1, all)))).append("</tr>"));
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
    return html.append("<p style=\"color:#888\">").append(esc(r.date)).append("</p></body></html>").toString();
  }

  private static String lineChart(List<Map<String, Object>> series) {
    double max = series.stream().mapToDouble(p -> ((Number) p.get("p99")).doubleValue()).max().orElse(1) / 1e6;
    max = Math.max(max, 0.001);
    StringBuilder svg = svgStart();
    svg.append(axis(max, "ms"));
    for (String key : new String[] {"p50", "p99"}) {
      svg.append("<polyline fill=\"none\" stroke-width=\"2\" class=\"").append(key).append("\" points=\"");
      for (int i = 0; i < series.size(); i++) {
        double v = ((Number) series.get(i).get(key)).doubleValue() / 1e6;
        svg.append(String.format("%.1f,%.1f ", x(i, series.size()), y(v, max)));
      }
      svg.append("\"/>");
    }
    return svg.append("</svg>").toString();
  }

  private static String barChart(List<Double> values, List<String> labels) {
    double max = Math.max(1, values.stream().mapToDouble(Double::doubleValue).max().orElse(1));
    StringBuilder svg = svgStart();
    svg.append(axis(max, ""));
    int n = Math.max(1, values.size());
    double width = (W - 2.0 * PAD) / n;
    for (int i = 0; i < values.size(); i++) {
      double top = y(values.get(i), max);
      svg.append(String.format("<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#1f77b4\"/>",
          PAD + i * width + 1, top, Math.max(1, width - 2), H - PAD - top));
      if (n <= 30 || i % (n / 15 + 1) == 0) {
        svg.append(String.format("<text x=\"%.1f\" y=\"%d\" font-size=\"10\" text-anchor=\"middle\">%s</text>",
            PAD + (i + 0.5) * width, H - PAD + 14, esc(labels.get(i))));
      }
    }
    return svg.append("</svg>").toString();
  }

  private static StringBuilder svgStart() {
    return new StringBuilder("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + W + "\" height=\"" + H + "\">");
  }

  private static String axis(double max, String unit) {
    return String.format("<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#888\"/>", PAD, H - PAD, W - PAD, H - PAD)
        + String.format("<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#888\"/>", PAD, PAD / 2, PAD, H - PAD)
        + String.format("<text x=\"4\" y=\"%d\" font-size=\"10\">%.2f %s</text>", PAD / 2 + 8, max, unit)
        + String.format("<text x=\"4\" y=\"%d\" font-size=\"10\">0</text>", H - PAD);
  }

  private static double x(int i, int n) {
    return PAD + (n <= 1 ? 0 : i * (W - 2.0 * PAD) / (n - 1));
  }

  private static double y(double v, double max) {
    return H - PAD - v / max * (H - 1.5 * PAD);
  }

  private static String td(Object v) {
    return "<td>" + v + "</td>";
  }

  private static String ms(long nanos) {
    return String.format("%.2f ms", nanos / 1e6);
  }

  private static String esc(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }
}
