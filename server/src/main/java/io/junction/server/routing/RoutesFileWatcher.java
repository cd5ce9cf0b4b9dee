package io.junction.server.routing;

import io.junction.server.concurrent.NamedThreadFactory;
import io.junction.server.errors.FileErrors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reloads the routes file when its content changes. It re-reads the file on a timer rather than using
 * file-system events, which miss the atomic symlink swaps of Kubernetes ConfigMaps. An invalid new file
 * is logged and the running table stays. Owns its {@code junction-routes-watch} thread.
 */
public final class RoutesFileWatcher implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RoutesFileWatcher.class);

  private final Path file;
  private final RouteRegistry routes;
  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(new NamedThreadFactory("junction-routes-watch", true));
  private String lastContent;

  /** Loads the file now (throwing if it is invalid) and then watches it. */
  public RoutesFileWatcher(Path file, RouteRegistry routes, Duration interval) throws IOException {
    this.file = file;
    this.routes = routes;
    try {
      this.lastContent = Files.readString(file);
    } catch (IOException e) {
      throw new IOException("cannot read the routes file " + file + ": " + FileErrors.reason(e), e);
    }
    routes.replace(RoutesFile.parse(lastContent));
    timer.scheduleWithFixedDelay(this::check, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void check() {
    String content;
    try {
      content = Files.readString(file);
    } catch (IOException e) {
      log.warn("cannot read the routes file {}: {}; keeping the running routes", file, FileErrors.reason(e));
      return;
    }
    if (content.equals(lastContent)) {
      return;
    }
    lastContent = content;
    try {
      routes.replace(RoutesFile.parse(content));
      log.info("routes reloaded from {}: {}", file, routes.current().routes().keySet());
    } catch (IllegalArgumentException e) {
      log.error("the routes file {} is invalid, keeping the running routes: {}", file, e.getMessage());
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
