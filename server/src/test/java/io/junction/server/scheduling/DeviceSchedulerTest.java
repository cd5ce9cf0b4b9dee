package io.junction.server.scheduling;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
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

  @Test
  void aTaskRunsOnItsCallersThreadOnlyWhenASlotIsFreeAndNothingWaits() throws Exception {
    try (DeviceScheduler device = new DeviceScheduler("cpu", 1)) {
      List<String> ranOn = new CopyOnWriteArrayList<>();
      assertThat(device.runHere(() -> ranOn.add(Thread.currentThread().getName()))).isTrue();
      assertThat(ranOn).containsExactly(Thread.currentThread().getName());

      // The only slot busy on the device's thread: refused, nothing run.
      CountDownLatch started = new CountDownLatch(1);
      CountDownLatch release = new CountDownLatch(1);
      device.execute("a", () -> {
        started.countDown();
        await(release);
      });
      assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
      assertThat(device.runHere(() -> ranOn.add("overtook"))).isFalse();
      // Work queued behind it: still refused once the slot is free, until the queue is served.
      CountDownLatch queuedRan = new CountDownLatch(1);
      device.execute("b", queuedRan::countDown);
      release.countDown();
      assertThat(queuedRan.await(10, TimeUnit.SECONDS)).isTrue();
      assertThat(ranOn).doesNotContain("overtook");
      // The queued task counted down inside its run: its thread gives the slot back just after.
      Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> device.running() == 0);

      // A task run here holds the slot: the device's thread waits for it before starting queued work.
      AtomicInteger active = new AtomicInteger();
      AtomicInteger peak = new AtomicInteger();
      CountDownLatch queuedDone = new CountDownLatch(1);
      assertThat(device.runHere(() -> {
        peak.accumulateAndGet(active.incrementAndGet(), Math::max);
        device.execute("c", () -> {
          peak.accumulateAndGet(active.incrementAndGet(), Math::max);
          active.decrementAndGet();
          queuedDone.countDown();
        });
        sleep(50);
        active.decrementAndGet();
      })).isTrue();
      assertThat(queuedDone.await(10, TimeUnit.SECONDS)).as("started once the slot came back").isTrue();
      assertThat(peak.get()).isEqualTo(1);
      assertThat(device.peakConcurrency()).isEqualTo(1);
    }
  }

  @Test
  void theDevicesOwnThreadsAndAClosedDeviceRunNothingHere() throws Exception {
    DeviceScheduler device = new DeviceScheduler("cpu", 2);
    CountDownLatch asked = new CountDownLatch(1);
    AtomicInteger ranHere = new AtomicInteger();
    AtomicBoolean answer = new AtomicBoolean(true);
    device.execute("a", () -> {
      answer.set(device.runHere(ranHere::incrementAndGet)); // a slot is free, but this thread holds its own
      asked.countDown();
    });
    assertThat(asked.await(10, TimeUnit.SECONDS)).isTrue();
    assertThat(answer.get()).isFalse();
    device.close();
    assertThat(device.runHere(ranHere::incrementAndGet)).isFalse();
    assertThat(ranHere.get()).isZero();
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
