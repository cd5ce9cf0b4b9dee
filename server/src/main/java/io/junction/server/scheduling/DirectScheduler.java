package io.junction.server.scheduling;

import io.junction.server.backend.ExecutionTimings;
import io.junction.server.concurrent.NamedThreadFactory;
import io.junction.server.errors.InferenceFailedException;
import io.junction.server.errors.JunctionException;
import io.junction.server.errors.QueueFullException;
import io.junction.server.errors.RequestCancelledException;
import io.junction.server.errors.RequestTimeoutException;
import io.junction.server.model.ModelStats;
import io.junction.server.model.ServedModel;
import io.junction.server.tensor.Tensor;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs each request alone, as soon as one of a fixed set of worker threads is free, from one bounded
 * queue shared by all models. A full queue rejects at once. Requests whose deadline passed or whose
 * caller went away while queued are answered without running.
 *
 * <p>The scheduler owns its worker threads ({@code junction-infer-N}); {@link #close()} lets accepted
 * requests finish and then stops them.
 */
public final class DirectScheduler implements InferenceScheduler {
  private static final Logger log = LoggerFactory.getLogger(DirectScheduler.class);
  private static final long SHUTDOWN_GRACE_SECONDS = 30;

  private final ThreadPoolExecutor workers;
  private final int queueCapacity;
  private final AtomicBoolean closed = new AtomicBoolean();

  public DirectScheduler(int threads, int queueCapacity) {
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be positive, got " + threads);
    }
    if (queueCapacity < 1) {
      throw new IllegalArgumentException("queueCapacity must be positive, got " + queueCapacity);
    }
    this.queueCapacity = queueCapacity;
    this.workers = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS,
        new ArrayBlockingQueue<>(queueCapacity), new NamedThreadFactory("junction-infer", true),
        new ThreadPoolExecutor.AbortPolicy());
    workers.prestartAllCoreThreads();
  }

  @Override
  public CompletableFuture<InferenceResult> submit(InferenceRequest request) {
    CompletableFuture<InferenceResult> future = new CompletableFuture<>();
    try {
      workers.execute(() -> run(request, future));
    } catch (RejectedExecutionException e) {
      throw new QueueFullException(request.model().label() + ": the server's inference queue is full ("
          + queueCapacity + " requests waiting); retry later", e);
    }
    return future;
  }

  private void run(InferenceRequest request, CompletableFuture<InferenceResult> future) {
    ServedModel model = request.model();
    ModelStats stats = model.stats();
    long started = System.nanoTime();
    try {
      if (request.cancelled().getAsBoolean()) {
        throw new RequestCancelledException(model.label() + ": request " + quote(request.id())
            + " was cancelled by the caller before it ran");
      }
      if (request.expiredAt(started)) {
        throw new RequestTimeoutException(model.label() + ": request " + quote(request.id())
            + " passed its deadline after waiting " + (started - request.arrivalNanos()) / 1000 + " µs in the queue");
      }
      ExecutionTimings timings = new ExecutionTimings();
      List<Tensor> outputs = model.backend().run(request.inputs(), request.outputs(), timings);
      long finished = System.nanoTime();
      stats.recordExecution(request.batchSize(), timings.inputNanos(), timings.inferNanos(), timings.outputNanos());
      stats.recordSuccess(request.batchSize(), finished - request.arrivalNanos(), started - request.arrivalNanos(),
          timings.inputNanos(), timings.inferNanos(), timings.outputNanos());
      future.complete(new InferenceResult(request.id(), model.name(), model.version(), outputs));
    } catch (JunctionException e) {
      stats.recordFailure(System.nanoTime() - request.arrivalNanos());
      future.completeExceptionally(e);
    } catch (RuntimeException | Error e) {
      // A backend fault fails this request only; the worker goes on with the next one.
      stats.recordFailure(System.nanoTime() - request.arrivalNanos());
      log.error("{}: request {} failed in the backend", model.label(), quote(request.id()), e);
      future.completeExceptionally(new InferenceFailedException(model.label() + ": inference failed: " + e, e));
    }
  }

  private static String quote(String id) {
    return id.isEmpty() ? "(no id)" : "'" + id + "'";
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    workers.shutdown();
    try {
      if (!workers.awaitTermination(SHUTDOWN_GRACE_SECONDS, TimeUnit.SECONDS)) {
        log.warn("inference workers still busy after {} s; interrupting", SHUTDOWN_GRACE_SECONDS);
        workers.shutdownNow();
      }
    } catch (InterruptedException e) {
      workers.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }
}
