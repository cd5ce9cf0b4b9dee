package io.junction.server.scheduling;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class DeviceSchedulerTest {
  @Test
  void neverRunsMoreThanItsSlots() throws Exception {
    AtomicInteger active = new AtomicInteger();
    AtomicInteger peak = new AtomicInteger();
    CountDownLatch done = new CountDownLatch(60);
    try (DeviceScheduler device = new DeviceScheduler("cpu", 3)) {
      for (int i = 0; i < 60; i++) {
        device.execute("model-" + (i % 4), () -> {
          peak.accumulateAndGet(active.incrementAndGet(), Math::max);
          sleep(2);
          active.decrementAndGet();
          done.countDown();
        });
      }
      assertThat(done.await(30, TimeUnit.SECONDS)).isTrue();
      assertThat(peak.get()).isEqualTo(3);
      assertThat(device.peakConcurrency()).isEqualTo(3);
    }
  }

  @Test
  void aHotModelDoesNotStarveAColdOne() throws Exception {
    List<String> order = new CopyOnWriteArrayList<>();
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch done = new CountDownLatch(102);
    try (DeviceScheduler device = new DeviceScheduler("cpu", 1)) {
      device.execute("hot", () -> {
        await(release);
        order.add("hot");
        done.countDown();
      });
      for (int i = 0; i < 100; i++) {
        device.execute("hot", () -> {
          order.add("hot");
          done.countDown();
        });
      }
      device.execute("cold", () -> {
        order.add("cold");
        done.countDown();
      });
      release.countDown();
      assertThat(done.await(30, TimeUnit.SECONDS)).isTrue();
      // Round robin: the cold model's one execution goes right after the hot one's current execution
      // and at most one more, not after the hundred queued before it.
      assertThat(order.indexOf("cold")).isLessThanOrEqualTo(2);
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void await(CountDownLatch latch) {
    try {
      latch.await(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
