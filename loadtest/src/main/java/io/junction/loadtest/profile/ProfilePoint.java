package io.junction.loadtest.profile;

/**
 * One measured point of a profile: a server configuration, a load, and what the client and the server saw.
 *
 * @param instances the model's instance count (per instance group) during the point
 * @param maxQueueDelayMicros the dynamic batcher's max_queue_delay_microseconds during the point; -1 as configured
 * @param batchSize rows in each request
 * @param concurrency callers, each calling again when answered
 * @param inferencesPerSecond rows answered per second (requests times batch size)
 * @param requestsPerSecond requests answered per second
 * @param p50Ms client-side latency percentiles, in milliseconds
 * @param failures calls that did not answer OK
 * @param serverRequests requests the server's statistics counted during the point (equal to the client's
 *     answers when nothing else calls the model)
 * @param queueMs mean time a request waited in the server's queue (ModelStatistics)
 * @param computeMs mean time of the executions a request was part of: inputs, run and outputs
 * @param meanExecutedBatch rows per execution: how much the server's batcher merged
 * @param modelFootprintBytes what the model's versions hold as the server measured them at load (resident
 *     growth); -1 when the server's metrics could not be read
 * @param serverMemoryBytes the server process's resident memory after the point; -1 when unknown
 */
public record ProfilePoint(int instances, long maxQueueDelayMicros, int batchSize, int concurrency,
    double inferencesPerSecond, double requestsPerSecond, double p50Ms, double p95Ms, double p99Ms, long answered,
    long failures, long serverRequests, double queueMs, double computeMs, double meanExecutedBatch,
    long modelFootprintBytes, long serverMemoryBytes) {

  /** The latency percentile a budget is judged on: 50, 95 or 99. */
  public double latencyMs(int percentile) {
    return switch (percentile) {
      case 50 -> p50Ms;
      case 95 -> p95Ms;
      default -> p99Ms;
    };
  }

  /** The server configuration of the point, as a label. */
  public String configuration() {
    return (instances > 0 ? instances + " instance(s)" : "configured instances")
        + (maxQueueDelayMicros >= 0 ? ", delay " + maxQueueDelayMicros + " µs" : "");
  }
}
