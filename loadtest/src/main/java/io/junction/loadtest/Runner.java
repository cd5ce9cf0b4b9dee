package io.junction.loadtest;

import io.grpc.Status;
import io.junction.proto.inference.ModelInferRequest;
import io.junction.proto.inference.ModelInferResponse;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongFunction;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Sends the load. Closed loop: {@code concurrency} callers, each calling again when answered. Open loop
 * ({@code --rps}): calls start on a fixed timeline whatever the answers do, and latency counts from the
 * scheduled start, so a slow server cannot hide its queueing (no coordinated omission).
 */
final class Runner {
  record Result(Histogram latencies, long totalNanos, Map<String, Long> codes, Map<String, Long> errors,
      Long pacingErrorNs, Long pacingErrorP99Ns, Map<String, Long> variants, Map<Long, Long> startsPerSecond,
      Map<Long, Histogram> answeredPerSecond, Map<Long, Long> errorsPerSecond, Map<Long, Long> callersPerSecond,
      List<Detail> details) {}

  /** One call, as ghz's {@code details} list has it: when it started, how long it took, how it ended. */
  record Detail(Instant timestamp, long latencyNanos, String status, String error) {}

  /** How each request reaches the server. */
  private final Calls calls;
  /** The request of each call, by its number (0, 1, ...). */
  private final LongFunction<ModelInferRequest> requests;
  private final AtomicLong nextRequest = new AtomicLong();
  private final long skipFirst;
  private final boolean countErrors;
  /** Answers so far, to leave the first {@link #skipFirst} out. */
  private final AtomicLong answers = new AtomicLong();
  private final Recorder latencies = new Recorder(TimeUnit.MINUTES.toNanos(10), 3);
  private final Map<String, AtomicLong> codes = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> errors = new ConcurrentHashMap<>();
  /** Answers per route variant (Junction's response parameter junction_variant), when a route served. */
  private final Map<String, AtomicLong> variants = new ConcurrentHashMap<>();
  /** Calls started per second of the run (open loop), to show a schedule's shape. */
  private final Map<Long, AtomicLong> timeline = new ConcurrentHashMap<>();
  /** Latencies of the calls answered in each second of the run, for the latency-over-time chart. */
  private final Map<Long, org.HdrHistogram.SynchronizedHistogram> perSecond = new ConcurrentHashMap<>();
  private final long runStart = System.nanoTime();
  private final long runStartEpochNanos = Instant.now().getEpochSecond() * 1_000_000_000L
      + Instant.now().getNano();
  /** Every call's detail, when asked for (ghz's JSON report lists them); null otherwise. */
  private Queue<Detail> details;
  private final Map<Long, AtomicLong> failuresPerSecond = new ConcurrentHashMap<>();
  /** Highest number of callers active in each second of a closed-loop run. */
  private final Map<Long, Long> activeCallers = new ConcurrentHashMap<>();

  Runner(Calls calls, ModelInferRequest request) {
    this(calls, List.of(request), 0, false);
  }

  /**
   * @param requests sent in turn (ghz's JSON array in -d), one for every call when there is one
   * @param skipFirst answers left out of the results, the first ones to arrive (ghz's --skipFirst)
   * @param countErrors whether failed calls' latencies count in the latency figures (ghz's --count-errors);
   *     they are always counted by status and message
   */
  Runner(Calls calls, List<ModelInferRequest> requests, long skipFirst, boolean countErrors) {
    this(calls, inTurn(requests), skipFirst, countErrors);
  }

  /** @param requests the request of each call by its number, e.g. a template rendered per call */
  Runner(Calls calls, LongFunction<ModelInferRequest> requests, long skipFirst, boolean countErrors) {
    this.calls = calls;
    this.requests = requests;
    this.skipFirst = skipFirst;
    this.countErrors = countErrors;
  }

  private static LongFunction<ModelInferRequest> inTurn(List<ModelInferRequest> requests) {
    if (requests.isEmpty()) {
      throw new IllegalArgumentException("a load needs at least one request");
    }
    List<ModelInferRequest> all = List.copyOf(requests);
    return all.size() == 1 ? n -> all.get(0) : n -> all.get((int) (n % all.size()));
  }

  /** Keeps every call's start, latency and status for the report (memory grows with the calls). */
  Runner keepDetails() {
    details = new ConcurrentLinkedQueue<>();
    return this;
  }

  private void detail(long scheduledNanos, String status, String error) {
    if (details != null) {
      long epoch = runStartEpochNanos + (scheduledNanos - runStart);
      details.add(new Detail(Instant.ofEpochSecond(0, epoch), System.nanoTime() - scheduledNanos, status, error));
    }
  }

  /** @param total calls to make, or 0 for as many as {@code durationNanos} allows */
  Result closedLoop(int concurrency, long total, long durationNanos) throws InterruptedException {
    return closedLoop(new LoadSchedule("const", concurrency, 0, 0, 1), total, durationNanos);
  }

  /**
   * Closed loop whose number of callers follows {@code concurrency} over time (ghz's concurrency
   * schedules): caller {@code i} works while {@code i} is below the schedule's value, and waits otherwise.
   */
  Result closedLoop(LoadSchedule concurrency, long total, long durationNanos) throws InterruptedException {
    long start = System.nanoTime();
    long end = durationNanos > 0 ? start + durationNanos : Long.MAX_VALUE;
    int callers = (int) Math.ceil(Math.max(concurrency.start(), concurrency.end() > 0 ? concurrency.end()
        : concurrency.rateAt(durationNanos / 1e9)));
    ClosedLoop loop = new ClosedLoop(concurrency, total, start, end, callers);
    Thread ticker = new Thread(loop::tick, "loadtest-closed-loop");
    ticker.setDaemon(true);
    ticker.start();
    for (int w = 0; w < callers; w++) {
      loop.next(w);
    }
    loop.done.await();
    ticker.interrupt();
    return result(System.nanoTime() - start, null);
  }

  /**
   * Callers as chains of asynchronous calls: each answer starts the caller's next call on the thread
   * that received it, so no thread is woken per call and one core drives several times the rate that a
   * thread per caller could. Callers whose turn has not come yet (a concurrency schedule), and calls
   * answered before {@code call} returned, wait for the ticker, which looks every millisecond.
   */
  private final class ClosedLoop {
    final CountDownLatch done;
    private final LoadSchedule concurrency;
    private final long total;
    private final long start;
    private final long end;
    private final AtomicLong started = new AtomicLong();
    private final Queue<Integer> waiting = new ConcurrentLinkedQueue<>();
    private final ThreadLocal<Boolean> calling = ThreadLocal.withInitial(() -> false);

    ClosedLoop(LoadSchedule concurrency, long total, long start, long end, int callers) {
      this.concurrency = concurrency;
      this.total = total;
      this.start = start;
      this.end = end;
      this.done = new CountDownLatch(callers);
    }

    void next(int worker) {
      long now = System.nanoTime();
      if ((total > 0 && started.get() >= total) || now - end >= 0) {
        done.countDown();
        return;
      }
      if (calling.get() || worker >= (int) concurrency.rateAt((now - start) / 1e9)) {
        waiting.add(worker); // not this caller's turn yet, or an answer inside call(): no unbounded recursion
        return;
      }
      if (total > 0 && started.incrementAndGet() > total) {
        done.countDown();
        return;
      }
      timeline.computeIfAbsent((now - start) / 1_000_000_000L, k -> new AtomicLong()).incrementAndGet();
      activeCallers.merge((now - start) / 1_000_000_000L, worker + 1L, Math::max);
      calling.set(true);
      try {
        call(worker, now, () -> next(worker));
      } finally {
        calling.set(false);
      }
    }

    void tick() {
      while (done.getCount() > 0 && !Thread.currentThread().isInterrupted()) {
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        for (int n = waiting.size(); n > 0; n--) {
          Integer worker = waiting.poll();
          if (worker == null) {
            break;
          }
          next(worker);
        }
      }
    }
  }

  /**
   * Calls start on the schedule's timeline (each one {@code 1/rate} after the previous) until
   * {@code total} calls or {@code durationNanos}.
   */
  Result openLoop(LoadSchedule schedule, long total, long durationNanos) throws InterruptedException {
    AtomicLong pending = new AtomicLong();
    long start = System.nanoTime();
    long scheduled = start;
    // How late each call started after its scheduled time; the worst one and the p99 are reported.
    Histogram lateness = new Histogram(3);
    long sent = 0;
    while ((total == 0 || sent < total) && (durationNanos == 0 || scheduled - start < durationNanos)) {
      long wait;
      while ((wait = scheduled - System.nanoTime()) > 0) {
        LockSupport.parkNanos(wait);
      }
      lateness.recordValue(Math.max(0, System.nanoTime() - scheduled));
      pending.incrementAndGet();
      long second = (scheduled - start) / 1_000_000_000L;
      timeline.computeIfAbsent(second, k -> new AtomicLong()).incrementAndGet();
      call(-1, scheduled, pending::decrementAndGet);
      sent++;
      scheduled += (long) (1e9 / schedule.rateAt((scheduled - start) / 1e9));
    }
    // Calls still out get their timeout and 10 s more; without a timeout (-t 0), as long as they take.
    long giveUp = System.nanoTime() + calls.timeoutNanos() + TimeUnit.SECONDS.toNanos(10);
    while (pending.get() > 0 && (calls.timeoutNanos() == 0 || System.nanoTime() - giveUp < 0)) {
      Thread.sleep(1);
    }
    return result(System.nanoTime() - start, lateness);
  }

  /** @param caller the closed loop's caller making the call, or -1 in an open loop */
  private void call(int caller, long scheduledNanos, Runnable whenDone) {
    ModelInferRequest request = requests.apply(nextRequest.getAndIncrement());
    calls.send(caller, request, new Calls.Outcome() {
      @Override
      public void answered(ModelInferResponse response) {
        if (answers.incrementAndGet() <= skipFirst) {
          whenDone.run();
          return;
        }
        recordLatency(scheduledNanos);
        count(codes, "OK");
        detail(scheduledNanos, "OK", "");
        var variant = response.getParametersMap().get("junction_variant");
        if (variant != null) {
          count(variants, variant.getStringParam());
        }
        whenDone.run();
      }

      @Override
      public void failed(Status status) {
        if (answers.incrementAndGet() <= skipFirst) {
          whenDone.run();
          return;
        }
        if (countErrors) {
          recordLatency(scheduledNanos);
        }
        failuresPerSecond.computeIfAbsent((System.nanoTime() - runStart) / 1_000_000_000L, k -> new AtomicLong())
            .incrementAndGet();
        count(codes, GhzNames.code(status.getCode()));
        count(errors, GhzNames.error(status));
        detail(scheduledNanos, GhzNames.code(status.getCode()), GhzNames.error(status));
        whenDone.run();
      }
    });
  }

  private void recordLatency(long scheduledNanos) {
    long now = System.nanoTime();
    long latency = Math.max(1, now - scheduledNanos);
    latencies.recordValue(latency);
    perSecond.computeIfAbsent((now - runStart) / 1_000_000_000L,
        k -> new org.HdrHistogram.SynchronizedHistogram(TimeUnit.MINUTES.toNanos(10), 2)).recordValue(latency);
  }

  private Result result(long totalNanos, Histogram lateness) {
    Map<String, Long> c = new TreeMap<>();
    codes.forEach((k, v) -> c.put(k, v.get()));
    Map<String, Long> e = new TreeMap<>();
    errors.forEach((k, v) -> e.put(k, v.get()));
    Map<String, Long> v = new TreeMap<>();
    variants.forEach((k, n) -> v.put(k, n.get()));
    Map<Long, Long> starts = new TreeMap<>();
    timeline.forEach((k, n) -> starts.put(k, n.get()));
    Map<Long, Histogram> answered = new TreeMap<>(perSecond);
    Map<Long, Long> failed = new TreeMap<>();
    failuresPerSecond.forEach((k, n) -> failed.put(k, n.get()));
    Long worst = lateness == null ? null : lateness.getMaxValue();
    Long p99 = lateness == null ? null : lateness.getValueAtPercentile(99);
    return new Result(latencies.getIntervalHistogram(), totalNanos, c, e, worst, p99, v, starts, answered, failed,
        new TreeMap<>(activeCallers), details == null ? List.of() : List.copyOf(details));
  }

  private static void count(Map<String, AtomicLong> map, String key) {
    map.computeIfAbsent(key, k -> new AtomicLong()).incrementAndGet();
  }
}
