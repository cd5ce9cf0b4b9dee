package io.junction.server.model;

import io.junction.server.errors.JunctionException;
import io.junction.server.errors.ModelUnavailableException;
import java.util.concurrent.CompletableFuture;

/**
 * How a request gets the model version that serves it: resolved and referenced
 * ({@link ServedModel#tryAcquire()}), the caller releasing it when done. Completes exceptionally with
 * a {@link JunctionException} when there is none.
 */
public interface ModelAccess extends AutoCloseable {
  CompletableFuture<ServedModel> acquire(String name, String version);

  /** Without a memory budget: what is loaded is what serves. */
  static ModelAccess direct(ModelManager models) {
    return (name, version) -> {
      try {
        return CompletableFuture.completedFuture(acquireLoaded(models, name, version));
      } catch (RuntimeException e) {
        return CompletableFuture.failedFuture(e);
      }
    };
  }

  /**
   * Resolves and references a loaded version. A version swap puts the new version in place before it
   * retires the old one, so a request that resolved the old one just before it retired finds the new
   * one by resolving again: no request fails because of a swap.
   */
  static ServedModel acquireLoaded(ModelManager models, String name, String version) {
    for (int attempt = 0; attempt < 3; attempt++) {
      ServedModel model = models.resolve(name, version);
      if (model.tryAcquire()) {
        return model;
      }
    }
    throw new ModelUnavailableException("model '" + name + "'"
        + (version.isEmpty() ? "" : " version " + version) + " is being unloaded");
  }

  @Override
  default void close() {}
}
