package io.junction.loadtest;

import java.util.Locale;
import java.util.function.IntFunction;

/** The frame of the reports' inline SVG charts: size, margins, axes with titles, and the value-to-pixel scales. */
public final class Svg {
  public static final int W = 760;
  public static final int H = 240;
  public static final int LEFT = 64;
  public static final int RIGHT = 16;
  public static final int TOP = 16;
  public static final int BOTTOM = 44;

  private Svg() {}

  public static void xTicks(StringBuilder svg, int n, IntFunction<String> label) {
    int every = n <= 20 ? 1 : n / 10 + 1;
    for (int i = 0; i < n; i += every) {
      svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" font-size=\"10\" text-anchor=\"middle\">%s</text>",
          x(i, n), H - BOTTOM + 14, esc(label.apply(i))));
    }
  }

  public static StringBuilder svgStart() {
    return new StringBuilder("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + W + "\" height=\"" + H + "\">");
  }

  /** Both axes, the y scale at 0, half and full, and the axis titles. */
  public static String axes(double max, String yTitle, String xTitle, boolean counts) {
    StringBuilder a = new StringBuilder();
    a.append(String.format("<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#888\"/>", LEFT, H - BOTTOM, W - RIGHT, H - BOTTOM));
    a.append(String.format("<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#888\"/>", LEFT, TOP, LEFT, H - BOTTOM));
    for (double f : new double[] {0, 0.5, 1}) {
      String value = counts ? String.format(Locale.ROOT, "%.0f", max * f) : String.format(Locale.ROOT, "%.2f", max * f);
      a.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" font-size=\"10\" text-anchor=\"end\">%s</text>",
          LEFT - 4, y(max * f, max) + 3, value));
    }
    a.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\">%s</text>",
        LEFT + (W - LEFT - RIGHT) / 2.0, H - 8, esc(xTitle)));
    a.append(String.format(Locale.ROOT, "<text x=\"12\" y=\"%.1f\" font-size=\"11\" text-anchor=\"middle\" "
        + "transform=\"rotate(-90 12 %.1f)\">%s</text>", (TOP + H - BOTTOM) / 2.0, (TOP + H - BOTTOM) / 2.0, esc(yTitle)));
    return a.toString();
  }

  public static double x(int i, int n) {
    return LEFT + (n <= 1 ? 0 : i * (W - LEFT - RIGHT) / (double) (n - 1));
  }

  public static double y(double v, double max) {
    return H - BOTTOM - v / max * (H - BOTTOM - TOP);
  }

  /** The x position of {@code v} on a continuous scale from 0 to {@code max}. */
  public static double xAt(double v, double max) {
    return LEFT + v / max * (W - LEFT - RIGHT);
  }

  public static String esc(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }
}
