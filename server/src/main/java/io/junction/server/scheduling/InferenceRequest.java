package io.junction.server.scheduling;

import io.junction.server.model.ServedModel;
import io.junction.server.tensor.BufferLease;
import io.junction.server.tensor.Tensor;
import io.opentelemetry.api.trace.Span;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.BooleanSupplier;

/**
 * One validated inference request for one model version.
 *
 * @param inputs every input the model needs, by name, checked against its signature
 * @param outputs the outputs to return, in order; never empty
 * @param batchSize rows carried by the request (1 for models without a batch dimension)
 * @param arrivalNanos {@link System#nanoTime()} when the request arrived
 * @param deadlineNanos {@link System#nanoTime()} after which the answer is of no use, or
 *     {@link Long#MAX_VALUE}
 * @param cancelled true once the caller has gone away
 * @param priority the priority level asked for (1 is highest); 0 for the model's default
 * @param queueTimeoutNanos the queue timeout asked for; 0 for the model's default
 * @param span the request's span, where scheduling records queue, batch and compute; never null
 *     ({@link Span#getInvalid()} when not traced)
 * @param inputsMemory the pooled buffer the inputs are views of: the scheduler that accepts the request holds
 *     one reference on it and releases it once no batch will read the inputs
 * @param callerMayRun whether the thread that submits the request may run it itself, when that spares a hand-off
 *     (a lone request of a model whose runs are short); false from threads that must not be held up, such as a
 *     transport's event loop
 */
public record InferenceRequest(String id, ServedModel model, Map<String, Tensor> inputs, List<String> outputs,
    long batchSize, long arrivalNanos, long deadlineNanos, BooleanSupplier cancelled, int priority,
    long queueTimeoutNanos, Span span, BufferLease inputsMemory, boolean callerMayRun) {
  public static final long NO_DEADLINE = Long.MAX_VALUE;

  public InferenceRequest {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(model, "model");
    inputs = Map.copyOf(inputs);
    outputs = List.copyOf(outputs);
    Objects.requireNonNull(cancelled, "cancelled");
    Objects.requireNonNull(span, "span");
    Objects.requireNonNull(inputsMemory, "inputsMemory");
    if (priority < 0 || queueTimeoutNanos < 0) {
      throw new IllegalArgumentException("priority and queueTimeoutNanos must be non-negative");
    }
    if (outputs.isEmpty()) {
      throw new IllegalArgumentException("a request must ask for at least one output");
    }
  }

  /** A request whose inputs live on the heap, which its caller may run. */
  public InferenceRequest(String id, ServedModel model, Map<String, Tensor> inputs, List<String> outputs,
      long batchSize, long arrivalNanos, long deadlineNanos, BooleanSupplier cancelled, int priority,
      long queueTimeoutNanos, Span span) {
    this(id, model, inputs, outputs, batchSize, arrivalNanos, deadlineNanos, cancelled, priority, queueTimeoutNanos,
        span, BufferLease.none(), true);
  }

  public boolean expiredAt(long nowNanos) {
    return deadlineNanos != NO_DEADLINE && nowNanos - deadlineNanos >= 0;
  }
}
