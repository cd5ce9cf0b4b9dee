package io.junction.server.scheduling;

import io.junction.server.backend.ExecutionTimings;
import io.junction.server.backend.LoadedModel;
import io.junction.server.model.FailureReason;
import io.junction.server.errors.InferenceFailedException;
import io.junction.server.errors.JunctionException;
import io.junction.server.errors.RequestCancelledException;
import io.junction.server.errors.RequestTimeoutException;
import io.junction.server.model.ModelStats;
import io.junction.server.model.ServedModel;
import io.junction.server.telemetry.SpanNames;
import io.junction.server.tensor.BufferLease;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs formed batches of one model version on a device thread: drops requests that were cancelled or
 * expired while the batch waited for the device, runs the rest through the {@link BatchRunner}, records
 * statistics and the batch's span, and answers every request of the batch exactly once. A backend that
 * throws fails that batch's requests alone, with a status; the model goes on serving.
 */
final class BatchExecution {
  private static final Logger log = LoggerFactory.getLogger(BatchExecution.class);

  private final ServedModel model;
  /** The model's copy on this execution's device. */
  private final LoadedModel copy;
  private final BatchRunner runner;
  private final Tracer tracer;
  private final String device;
  /** Rows per execution of this model version (its own data point, so recording is one observation). */
  private final DistributionDataPoint batchSize;

  BatchExecution(ServedModel model, BatchRunner runner, Tracer tracer, String device, DistributionDataPoint batchSize) {
    this(model, model.backend(), runner, tracer, device, batchSize);
  }

  BatchExecution(ServedModel model, LoadedModel copy, BatchRunner runner, Tracer tracer, String device,
      DistributionDataPoint batchSize) {
    this.model = model;
    this.copy = copy;
    this.runner = runner;
    this.tracer = tracer;
    this.device = device;
    this.batchSize = batchSize;
  }

  /**
   * Runs on a device's thread, or on the thread that submitted a lone request ({@link DynamicBatcher}); when it
   * returns, no request of the batch has its inputs read any more.
   */
  void run(List<PendingRequest> batch) {
    try {
      runBatch(batch);
    } finally {
      batch.forEach(PendingRequest::inputsDone);
    }
  }

  private void runBatch(List<PendingRequest> batch) {
    long start = System.nanoTime();
    List<PendingRequest> live = new ArrayList<>(batch.size());
    for (PendingRequest p : batch) {
      if (p.future.isDone()) {
        continue; // cancelled between forming and running
      }
      if (p.request.cancelled().getAsBoolean()) {
        fail(p, new RequestCancelledException(model.label() + ": request " + p.id() + " was cancelled before it ran"));
      } else if (p.request.expiredAt(start)) {
        fail(p, new RequestTimeoutException(model.label() + ": request " + p.id()
            + " passed its deadline while waiting for the device; it did not run"));
      } else {
        live.add(p);
      }
    }
    if (live.isEmpty()) {
      return;
    }
    Span batchSpan = startBatchSpan(live);
    List<InferenceRequest> requests = new ArrayList<>(live.size());
    for (PendingRequest p : live) {
      requests.add(p.request);
    }
    BatchRunner.Outcome outcome;
    try {
      outcome = runner.run(model, copy, requests);
    } catch (JunctionException e) {
      endBatchSpan(batchSpan, e);
      live.forEach(p -> fail(p, e));
      return;
    } catch (RuntimeException | Error e) {
      log.error("{}: a batch of {} requests failed in the backend (traces {})", model.label(), live.size(),
          traceIds(live), e);
      InferenceFailedException failure = new InferenceFailedException(model.label() + ": inference failed: " + e, e);
      endBatchSpan(batchSpan, e);
      live.forEach(p -> fail(p, failure));
      return;
    }
    long end = System.nanoTime();
    ExecutionTimings t = outcome.timings();
    ModelStats stats = model.stats();
    stats.recordExecution(outcome.rows(), t.inputNanos(), t.inferNanos(), t.outputNanos());
    batchSize.observe(outcome.rows());
    if (batchSpan.isRecording()) {
      batchSpan.setAttribute(SpanNames.BATCH_SIZE, outcome.rows());
      batchSpan.setAttribute(SpanNames.COMPUTE_INPUT_US, t.inputNanos() / 1000);
      batchSpan.setAttribute(SpanNames.COMPUTE_INFER_US, t.inferNanos() / 1000);
      batchSpan.setAttribute(SpanNames.COMPUTE_OUTPUT_US, t.outputNanos() / 1000);
    }
    endBatchSpan(batchSpan, null);
    BufferLease memory = outcome.outputsMemory();
    try {
      for (int i = 0; i < live.size(); i++) {
        PendingRequest p = live.get(i);
        InferenceRequest r = p.request;
        recordOnRequestSpan(r, batchSpan, start, outcome.rows(), t);
        // Every request ends in exactly one outcome: one cancelled while it ran was counted as failed then.
        if (p.claimOutcome()) {
          stats.recordSuccess(r.batchSize(), end - r.arrivalNanos(), start - r.arrivalNanos(), t.inputNanos(),
              t.inferNanos(), t.outputNanos());
        }
        memory.retain(); // the request's answer reads its slice of the batch's outputs
        if (!p.future.complete(new InferenceResult(r.id(), model.name(), model.version(), outcome.outputs().get(i),
            start - r.arrivalNanos(), t.inputNanos(), t.inferNanos(), t.outputNanos(), memory))) {
          memory.release(); // cancelled meanwhile: nobody will read it
        }
      }
    } finally {
      memory.release(); // the batch's own hold
    }
  }

  /** Answers a request that will not run (or whose batch failed); counted once, whoever gets there first. */
  void fail(PendingRequest p, JunctionException e) {
    if (p.claimOutcome()) {
      model.stats().recordFailure(System.nanoTime() - p.request.arrivalNanos(), FailureReason.of(e));
    }
    p.inputsDone();
    p.future.completeExceptionally(e);
  }

  /**
   * The batch's own span, linked to every request span it serves. It joins the trace of the first
   * sampled request, so it is sampled whenever one of its requests is, and there is none when no
   * request of the batch is sampled: a caller that asked not to be traced starts no trace here. A
   * batch of one request has no span either: its queue and compute times are on the request's span,
   * and a second span would double what every unbatched call costs to export.
   */
  private Span startBatchSpan(List<PendingRequest> live) {
    if (live.size() == 1) {
      return Span.getInvalid();
    }
    SpanContext parent = null;
    for (PendingRequest p : live) {
      SpanContext ctx = p.request.span().getSpanContext();
      if (ctx.isSampled()) {
        parent = ctx;
        break;
      }
    }
    if (parent == null) {
      return Span.getInvalid();
    }
    SpanBuilder builder = tracer.spanBuilder(SpanNames.BATCH).setSpanKind(SpanKind.INTERNAL)
        .setParent(Context.root().with(Span.wrap(parent)));
    for (PendingRequest p : live) {
      SpanContext ctx = p.request.span().getSpanContext();
      if (ctx.isValid()) {
        builder.addLink(ctx);
      }
    }
    return builder
        .setAttribute(SpanNames.MODEL_NAME, model.name())
        .setAttribute(SpanNames.MODEL_VERSION, Long.toString(model.version()))
        .setAttribute(SpanNames.BACKEND, model.config().getBackend())
        .setAttribute(SpanNames.DEVICE, device)
        .setAttribute(SpanNames.BATCH_REQUESTS, (long) live.size())
        .startSpan();
  }

  private static void endBatchSpan(Span span, Throwable failure) {
    if (failure != null) {
      span.setStatus(StatusCode.ERROR, failure.getMessage() == null ? failure.toString() : failure.getMessage());
      span.recordException(failure);
    }
    span.end();
  }

  private static void recordOnRequestSpan(InferenceRequest r, Span batch, long start, long rows, ExecutionTimings t) {
    Span span = r.span();
    if (!span.isRecording()) {
      return;
    }
    span.setAttribute(SpanNames.QUEUE_US, (start - r.arrivalNanos()) / 1000);
    span.setAttribute(SpanNames.BATCH_SIZE, rows);
    span.setAttribute(SpanNames.COMPUTE_INFER_US, t.inferNanos() / 1000);
    span.setAttribute(SpanNames.COMPUTE_INPUT_US, t.inputNanos() / 1000);
    span.setAttribute(SpanNames.COMPUTE_OUTPUT_US, t.outputNanos() / 1000);
    if (batch.getSpanContext().isValid()) {
      span.setAttribute(SpanNames.BATCH_TRACE_ID, batch.getSpanContext().getTraceId());
      span.setAttribute(SpanNames.BATCH_SPAN_ID, batch.getSpanContext().getSpanId());
      span.addLink(batch.getSpanContext());
    }
  }

  private static String traceIds(List<PendingRequest> requests) {
    StringBuilder sb = new StringBuilder();
    for (PendingRequest p : requests) {
      SpanContext ctx = p.request.span().getSpanContext();
      if (ctx.isValid()) {
        sb.append(sb.length() == 0 ? "" : ",").append(ctx.getTraceId());
      }
    }
    return sb.length() == 0 ? "none" : sb.toString();
  }
}
