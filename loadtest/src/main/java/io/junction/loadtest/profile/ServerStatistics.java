package io.junction.loadtest.profile;

import io.junction.proto.inference.ModelStatistics;
import io.junction.proto.inference.ModelStatisticsResponse;

/**
 * A model's cumulative statistics (ModelStatistics, summed over its versions) at one moment; the difference
 * of two is what the server did in between.
 */
record ServerStatistics(long requests, long queueNanos, long computeNanos, long inferences, long executions) {
  static ServerStatistics of(ModelStatisticsResponse response) {
    long requests = 0;
    long queue = 0;
    long compute = 0;
    long inferences = 0;
    long executions = 0;
    for (ModelStatistics s : response.getModelStatsList()) {
      requests += s.getInferenceStats().getSuccess().getCount();
      queue += s.getInferenceStats().getQueue().getNs();
      compute += s.getInferenceStats().getComputeInput().getNs() + s.getInferenceStats().getComputeInfer().getNs()
          + s.getInferenceStats().getComputeOutput().getNs();
      inferences += s.getInferenceCount();
      executions += s.getExecutionCount();
    }
    return new ServerStatistics(requests, queue, compute, inferences, executions);
  }

  ServerStatistics since(ServerStatistics before) {
    return new ServerStatistics(requests - before.requests, queueNanos - before.queueNanos,
        computeNanos - before.computeNanos, inferences - before.inferences, executions - before.executions);
  }

  double meanQueueMs() {
    return requests == 0 ? 0 : queueNanos / 1e6 / requests;
  }

  double meanComputeMs() {
    return requests == 0 ? 0 : computeNanos / 1e6 / requests;
  }

  double meanExecutedBatch() {
    return executions == 0 ? 0 : (double) inferences / executions;
  }
}
