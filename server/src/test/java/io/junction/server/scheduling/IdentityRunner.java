package io.junction.server.scheduling;

import io.junction.server.backend.ExecutionTimings;
import io.junction.server.backend.LoadedModel;
import io.junction.server.backend.ModelSignature;
import io.junction.server.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A hand-written runner for scheduler tests: {@code y = x} for input "x", optionally holding each run
 * until released, and recording every batch it saw (rows, first value) and the peak of concurrent runs.
 */
final class IdentityRunner implements LoadedModel {
  /** Rows and the first element of every batch, in execution order. */
  record Run(long rows, float first) {}

  final List<Run> runs = new CopyOnWriteArrayList<>();
  /** The thread that ran each batch, in execution order. */
  final List<Thread> threads = new CopyOnWriteArrayList<>();
  final AtomicInteger active = new AtomicInteger();
  final AtomicInteger peak = new AtomicInteger();
  final CountDownLatch firstStarted = new CountDownLatch(1);
  private volatile CountDownLatch gate = new CountDownLatch(0);
  private final long delayMillis;

  IdentityRunner(long delayMillis) {
    this.delayMillis = delayMillis;
  }

  /** Runs wait from now on until {@link #open()}. */
  void hold() {
    gate = new CountDownLatch(1);
  }

  void open() {
    gate.countDown();
  }

  @Override
  public ModelSignature signature() {
    return new ModelSignature(List.of(), List.of());
  }

  @Override
  public List<Tensor> run(Map<String, Tensor> inputs, List<String> outputs, ExecutionTimings timings) {
    peak.accumulateAndGet(active.incrementAndGet(), Math::max);
    try {
      Tensor x = inputs.get("x");
      ByteBuffer data = x.data();
      runs.add(new Run(x.dim(0), data.getFloat(0)));
      threads.add(Thread.currentThread());
      firstStarted.countDown();
      gate.await(10, TimeUnit.SECONDS);
      if (delayMillis > 0) {
        Thread.sleep(delayMillis);
      }
      ByteBuffer copy = ByteBuffer.allocate(data.remaining()).order(ByteOrder.LITTLE_ENDIAN);
      copy.put(data).flip();
      return List.of(Tensor.fixed("y", x.dataType(), x.shape(), copy));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } finally {
      active.decrementAndGet();
    }
  }

  @Override
  public void close() {}
}
