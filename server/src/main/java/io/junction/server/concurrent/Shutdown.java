package io.junction.server.concurrent;

import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;

/** Stopping an executor whose work may be dropped: timers and background loaders that a close ends. */
public final class Shutdown {
  private Shutdown() {}

  /**
   * Interrupts what {@code executor} runs, drops what waits, and waits up to {@code timeout} for its threads to end.
   * An interrupt of the caller ends the wait and stays set.
   */
  public static void now(ExecutorService executor, Duration timeout) {
    executor.shutdownNow();
    try {
      executor.awaitTermination(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
