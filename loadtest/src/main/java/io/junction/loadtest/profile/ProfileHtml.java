package io.junction.loadtest.profile;

import static io.junction.loadtest.Svg.BOTTOM;
import static io.junction.loadtest.Svg.H;
import static io.junction.loadtest.Svg.LEFT;
import static io.junction.loadtest.Svg.RIGHT;
import static io.junction.loadtest.Svg.TOP;
import static io.junction.loadtest.Svg.W;
import static io.junction.loadtest.Svg.axes;
import static io.junction.loadtest.Svg.esc;
import static io.junction.loadtest.Svg.svgStart;
import static io.junction.loadtest.Svg.xAt;
import static io.junction.loadtest.Svg.y;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The profile as one self-contained page: latency against throughput, one line per configuration and
 * batch size through its concurrency points (the curve bends up at the knee), the budget as a line and
 * the knee circled; then the verdict, the suggested config and every point.
 */
final class ProfileHtml {
  private static final String[] COLOURS = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf"};

  private ProfileHtml() {}

  static String render(ProfileReport r) {
    StringBuilder html = new StringBuilder("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Junction profile")
        .append("</title><style>body{font-family:sans-serif;margin:24px;color:#222}h1{font-size:20px}")
        .append("h2{font-size:16px;margin-top:28px}table{border-collapse:collapse}td,th{padding:4px 10px;")
        .append("border-bottom:1px solid #ddd;text-align:right}svg{background:#fafafa;border:1px solid #ddd}")
        .append("pre{background:#f4f4f4;padding:8px}.knee{font-weight:bold}</style></head><body>");
    html.append("<h1>Junction profile — ").append(esc(r.model())).append(r.version().isEmpty() ? "" : " version "
        + esc(r.version())).append(" @ ").append(esc(r.target())).append("</h1>");
    html.append("<p>").append(esc(r.analysis().verdict())).append("</p>");
    html.append("<h2>p").append(r.percentile()).append(" latency against throughput (one line per configuration and ")
        .append("batch size, concurrency rising along it; dashed: the budget)</h2>");
    html.append(chart(r));
    if (!r.analysis().suggestions().isEmpty()) {
      html.append("<h2>Suggested config</h2><table><tr><th>field</th><th>value</th><th style=\"text-align:left\">why")
          .append("</th></tr>");
      for (ProfileAnalysis.Suggestion s : r.analysis().suggestions()) {
        html.append("<tr><td>").append(esc(s.field())).append("</td><td>").append(esc(s.value()))
            .append("</td><td style=\"text-align:left\">").append(esc(s.why())).append("</td></tr>");
      }
      html.append("</table>");
      if (!r.analysis().config().isEmpty()) {
        html.append("<pre>").append(esc(r.analysis().config())).append("</pre>");
      }
    }
    html.append("<h2>Points</h2><table><tr><th>configuration</th><th>batch</th><th>concurrency</th><th>inferences/s")
        .append("</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>failed</th><th>server queue ms</th>")
        .append("<th>server compute ms</th><th>rows per execution</th><th>model memory</th><th>server memory</th></tr>");
    ProfilePoint knee = r.analysis().knee().orElse(null);
    for (ProfilePoint p : r.points()) {
      html.append(p.equals(knee) ? "<tr class=\"knee\">" : "<tr>").append(td(esc(p.configuration())))
          .append(td(p.batchSize())).append(td(p.concurrency())).append(td(f1(p.inferencesPerSecond())))
          .append(td(f2(p.p50Ms()))).append(td(f2(p.p95Ms()))).append(td(f2(p.p99Ms()))).append(td(p.failures()))
          .append(td(f2(p.queueMs()))).append(td(f2(p.computeMs()))).append(td(f1(p.meanExecutedBatch())))
          .append(td(ProfileText.bytes(p.modelFootprintBytes()))).append(td(ProfileText.bytes(p.serverMemoryBytes())))
          .append("</tr>");
    }
    html.append("</table><p>Each point: ").append(r.warmupMillis()).append(" ms of unmeasured load, then ")
        .append(r.durationMillis()).append(" ms measured; queue and compute are the server's means per request from ")
        .append("ModelStatistics over the measured time; model memory is what the server measured the model's versions ")
        .append("to hold when they loaded.</p>");
    for (String n : r.notes()) {
      html.append("<p>Note: ").append(esc(n)).append("</p>");
    }
    return html.append("</body></html>").toString();
  }

  private static String chart(ProfileReport r) {
    Map<String, List<ProfilePoint>> lines = new LinkedHashMap<>();
    double maxX = 1;
    double maxY = r.latencyBudgetMs() * 1.2;
    for (ProfilePoint p : r.points()) {
      if (p.answered() == 0) {
        continue;
      }
      lines.computeIfAbsent(p.configuration() + ", batch " + p.batchSize(), k -> new ArrayList<>()).add(p);
      maxX = Math.max(maxX, p.inferencesPerSecond() * 1.05);
      maxY = Math.max(maxY, p.latencyMs(r.percentile()) * 1.05);
    }
    StringBuilder svg = svgStart();
    svg.append(axes(maxY, "p" + r.percentile() + " latency (ms)", "inferences per second", false));
    for (double f : new double[] {0, 0.25, 0.5, 0.75, 1}) {
      svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" font-size=\"10\" text-anchor=\"middle\">%.0f</text>",
          xAt(maxX * f, maxX), H - BOTTOM + 14, maxX * f));
    }
    svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#888\" "
        + "stroke-dasharray=\"6 4\"/>", LEFT, y(r.latencyBudgetMs(), maxY), W - RIGHT, y(r.latencyBudgetMs(), maxY)));
    int i = 0;
    for (Map.Entry<String, List<ProfilePoint>> line : lines.entrySet()) {
      String colour = COLOURS[i % COLOURS.length];
      StringBuilder points = new StringBuilder();
      for (ProfilePoint p : line.getValue()) {
        double px = xAt(p.inferencesPerSecond(), maxX);
        double py = y(p.latencyMs(r.percentile()), maxY);
        points.append(String.format(Locale.ROOT, "%.1f,%.1f ", px, py));
        svg.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"><title>%s, "
            + "concurrency %d</title></circle>", px, py, colour, esc(line.getKey()), p.concurrency()));
      }
      svg.append("<polyline fill=\"none\" stroke-width=\"2\" stroke=\"").append(colour).append("\" points=\"")
          .append(points).append("\"/>");
      svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"11\" fill=\"%s\">%s</text>",
          LEFT + 8, TOP + 12 + 14 * i, colour, esc(line.getKey())));
      i++;
    }
    if (r.analysis().knee().isPresent()) {
      ProfilePoint k = r.analysis().knee().get();
      svg.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"8\" fill=\"none\" stroke=\"#000\" "
          + "stroke-width=\"2\"><title>knee</title></circle>", xAt(k.inferencesPerSecond(), maxX),
          y(k.latencyMs(r.percentile()), maxY)));
    }
    return svg.append("</svg>").toString();
  }

  private static String td(Object v) {
    return "<td>" + v + "</td>";
  }

  private static String f1(double v) {
    return String.format(Locale.ROOT, "%.1f", v);
  }

  private static String f2(double v) {
    return String.format(Locale.ROOT, "%.2f", v);
  }
}
