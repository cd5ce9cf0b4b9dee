package io.junction.server.model;

import io.junction.server.concurrent.NamedThreadFactory;
import io.junction.server.concurrent.Shutdown;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * POLL mode: brings the loaded models in line with the repository ({@link RepositorySync}) at a fixed delay,
 * on its own thread ({@code junction-repository-poll}), which it owns and stops on {@link #close()}.
 */
public final class RepositoryPoller implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RepositoryPoller.class);

  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(new NamedThreadFactory("junction-repository-poll", true));

  public RepositoryPoller(ModelManager models, Duration interval) {
    this(models, interval, false);
  }

  /** @param onDemand models load on their first request (a memory budget): polls only reload loaded ones */
  public RepositoryPoller(ModelManager models, Duration interval, boolean onDemand) {
    RepositorySync sync = new RepositorySync(models, onDemand);
    timer.scheduleWithFixedDelay(() -> {
      try {
        sync.poll();
      } catch (RuntimeException e) {
        // One bad poll (a directory vanishing mid-read, a permission problem) must not stop the next.
        log.error("polling the model repository failed; trying again in {}", interval, e);
      }
    }, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
  }

  @Override
  public void close() {
    Shutdown.now(timer, Duration.ofSeconds(30));
  }
}
