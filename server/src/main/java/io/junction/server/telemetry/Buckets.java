package io.junction.server.telemetry;

/** Histogram bucket bounds shared by Junction's metrics, so that dashboards can compare them. */
public final class Buckets {
  /** Request and shadow latencies, in seconds: 100 µs to 10 s. */
  public static final double[] LATENCY_SECONDS = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
      0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  /** Rows per model execution. */
  public static final double[] BATCH_ROWS = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};

  private Buckets() {}
}
