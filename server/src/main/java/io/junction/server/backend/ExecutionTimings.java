package io.junction.server.backend;

/**
 * Where one model execution spent its time, in nanoseconds, as Triton splits it: preparing input
 * tensors for the framework, executing, and extracting outputs. Filled in by the backend; one instance
 * per execution, used by one thread.
 */
public final class ExecutionTimings {
  private long inputNanos;
  private long inferNanos;
  private long outputNanos;

  public void recordInput(long nanos) {
    inputNanos += nanos;
  }

  public void recordInfer(long nanos) {
    inferNanos += nanos;
  }

  public void recordOutput(long nanos) {
    outputNanos += nanos;
  }

  public long inputNanos() {
    return inputNanos;
  }

  public long inferNanos() {
    return inferNanos;
  }

  public long outputNanos() {
    return outputNanos;
  }
}
