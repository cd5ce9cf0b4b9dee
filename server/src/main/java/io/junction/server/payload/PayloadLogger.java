package io.junction.server.payload;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.junction.server.concurrent.NamedThreadFactory;
import io.junction.server.errors.JunctionException;
import io.junction.server.inference.InferenceListener;
import io.junction.server.inference.InferenceOutcome;
import io.junction.server.model.ServedModel;
import io.junction.server.tensor.Tensor;
import io.junction.server.tensor.TensorJson;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Payload logging: a listener that copies sampled calls (inputs, outputs, errors, as each model's
 * {@link PayloadLogPolicy} says) into {@link PayloadRecord}s on a bounded queue, and one writer thread
 * ({@code junction-payload-log}, owned here) that turns them into JSON once and hands them to every sink.
 * When the queue is full a record is dropped and counted, never the call; the copy on the calling
 * thread is bounded by the policy's byte cap (larger tensors are summarised instead).
 */
public final class PayloadLogger implements InferenceListener, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PayloadLogger.class);
  private static final PayloadRecord STOP = new PayloadRecord(0, "", "", "", "", "", null, null, "", 0, List.of(),
      List.of(), "");

  private final PayloadLogPolicy defaults;
  private final List<PayloadSink> sinks;
  private final BlockingQueue<PayloadRecord> queue;
  private final Map<ServedModel, PayloadLogPolicy> policies = new ConcurrentHashMap<>();
  private final Counter records;
  private final Counter dropped;
  private final Counter failures;
  private final Thread writer;
  /** Used by the writer thread only. */
  private final JsonFactory json = TensorJson.newFactory();
  /** Used by the writer thread only. */
  private final IsoMillis times = new IsoMillis();
  /** Calls being recorded now: close waits for them, so the last calls before a shutdown are logged. */
  private final AtomicInteger active = new AtomicInteger();
  /** How long records wait for the writer at most (besides the writing itself). */
  private static final long BATCH_MILLIS = 20;

  /**
   * @param defaults the policy of models whose config does not override it
   * @param queueCapacity records that may wait for the writer; more are dropped
   */
  public PayloadLogger(PayloadLogPolicy defaults, List<PayloadSink> sinks, int queueCapacity, PrometheusRegistry metrics) {
    this.defaults = defaults;
    this.sinks = List.copyOf(sinks);
    this.queue = new ArrayBlockingQueue<>(queueCapacity);
    this.records = Counter.builder().name("junction_payload_records")
        .help("Payload records written, per sink").labelNames("sink").register(metrics);
    this.dropped = Counter.builder().name("junction_payload_records_dropped")
        .help("Payload records dropped because the logging queue was full (the calls were not affected)")
        .register(metrics);
    this.failures = Counter.builder().name("junction_payload_sink_failures")
        .help("Payload records a sink failed to write or deliver").labelNames("sink").register(metrics);
    this.writer = new NamedThreadFactory("junction-payload-log", true).newThread(this::drain);
    writer.start();
  }

  /** Counts a record a sink failed to deliver after handing it on (asynchronous sinks). */
  Runnable failureCounter(String sink) {
    return () -> failures.labelValues(sink).inc();
  }

  @Override
  public void completed(InferenceOutcome outcome) {
    active.incrementAndGet();
    try {
      record(outcome);
    } finally {
      active.decrementAndGet();
    }
  }

  private void record(InferenceOutcome outcome) {
    ServedModel model = outcome.model();
    PayloadLogPolicy policy = model == null ? defaults : policies.computeIfAbsent(model, this::policyOf);
    boolean failed = !outcome.succeeded();
    if (policy.sampleRate() <= 0 || (failed && !policy.errors()) || (!failed && !policy.inputs() && !policy.outputs())
        || (policy.sampleRate() < 1 && ThreadLocalRandom.current().nextDouble() >= policy.sampleRate())) {
      return;
    }
    if (policies.size() > 4096) {
      policies.keySet().removeIf(ServedModel::isRetired); // versions unloaded since
    }
    List<PayloadRecord.TensorRecord> inputs = policy.inputs() ? new ArrayList<>(outcome.inputs().size()) : List.of();
    if (policy.inputs()) {
      Map<String, Tensor> validated = outcome.inputs();
      for (var input : outcome.call().inputs()) { // in the order the caller sent them
        Tensor t = validated.get(input.name());
        if (t != null) {
          inputs.add(PayloadRecord.capture(t, policy));
        }
      }
    }
    List<PayloadRecord.TensorRecord> outputs = policy.outputs() && !failed ? new ArrayList<>(outcome.outputs().size())
        : List.of();
    if (policy.outputs() && !failed) {
      for (Tensor t : outcome.outputs()) {
        outputs.add(PayloadRecord.capture(t, policy));
      }
    }
    var route = outcome.route();
    PayloadRecord record = new PayloadRecord(outcome.arrivalEpochMillis(), outcome.modelName(),
        outcome.modelVersion() < 0 ? "" : Long.toString(outcome.modelVersion()),
        route == null ? "" : route.route().name(), route == null ? "" : route.variant().name(),
        outcome.call().id(), outcome.traceId(), outcome.spanId(),
        failed ? kind(outcome.failure()) : "OK",
        outcome.latencyNanos() / 1000, inputs, outputs,
        failed ? String.valueOf(outcome.failure().getMessage()) : "");
    if (!queue.offer(record)) {
      dropped.inc();
    }
  }

  /** A failure's kind as the protocol names it ({@code INVALID_ARGUMENT} ...). */
  private static String kind(Throwable failure) {
    Throwable t = failure;
    while (t instanceof CompletionException && t.getCause() != null) {
      t = t.getCause();
    }
    if (t instanceof JunctionException je) {
      return je.kind().name();
    }
    return t instanceof CancellationException ? "CANCELLED" : "INTERNAL";
  }

  private PayloadLogPolicy policyOf(ServedModel model) {
    try {
      return defaults.forModel(model.config());
    } catch (IllegalArgumentException e) {
      log.warn("{}: payload logging parameters ignored: {}", model.label(), e.getMessage());
      return defaults;
    }
  }

  /**
   * Wakes every {@link #BATCH_MILLIS} and writes what has queued up since. Waking per record instead
   * (a blocking take) would cost every logged call a thread hand-off, more than writing the record.
   */
  private void drain() {
    ByteArrayOutputStream buffer = new ByteArrayOutputStream(1024); // reused: one record at a time
    List<PayloadRecord> batch = new ArrayList<>(1024);
    boolean stopping = false;
    while (!stopping) {
      try {
        Thread.sleep(BATCH_MILLIS);
      } catch (InterruptedException e) {
        stopping = true; // write what is queued, then stop
      }
      while (queue.drainTo(batch, 1024) > 0) {
        for (PayloadRecord r : batch) {
          if (r == STOP) {
            stopping = true;
            continue;
          }
          byte[] line;
          try {
            line = json(r, buffer);
          } catch (IOException | RuntimeException e) { // a bug, not the sinks' failure: drop the record, keep logging
            log.warn("payload record of {} not written: {}", r.model(), e.toString());
            continue;
          }
          for (PayloadSink sink : sinks) {
            try {
              sink.write(r, line);
              records.labelValues(sink.name()).inc();
            } catch (Exception e) {
              failures.labelValues(sink.name()).inc();
              log.debug("payload sink {} failed: {}", sink.name(), e.toString());
            }
          }
        }
        batch.clear();
      }
      flushAll();
    }
  }

  private byte[] json(PayloadRecord record, ByteArrayOutputStream buffer) throws IOException {
    buffer.reset();
    try (JsonGenerator g = json.createGenerator(buffer)) {
      record.writeJson(g, times);
    }
    return buffer.toByteArray();
  }

  private void flushAll() {
    for (PayloadSink sink : sinks) {
      try {
        sink.flush();
      } catch (Exception e) {
        log.debug("payload sink {} failed to flush: {}", sink.name(), e.toString());
      }
    }
  }

  /** Writes what is queued (within a few seconds), then closes the sinks. */
  @Override
  public void close() {
    try {
      long waitUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
      while (active.get() > 0 && System.nanoTime() < waitUntil) {
        Thread.sleep(1); // a call answered just before the shutdown is still being copied
      }
      if (!queue.offer(STOP, 5, TimeUnit.SECONDS)) {
        writer.interrupt();
      }
      writer.join(TimeUnit.SECONDS.toMillis(10));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (PayloadSink sink : sinks) {
      try {
        sink.close();
      } catch (Exception e) {
        log.warn("payload sink {} failed to close: {}", sink.name(), e.toString());
      }
    }
  }
}
