package io.junction.server.model;

import io.junction.server.errors.ModelNotFoundException;
import io.junction.server.errors.QueueFullException;
import io.junction.server.repository.ModelRepository;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Brings the loaded models in line with the repository (Triton's POLL mode): loads models that appeared,
 * reloads those whose files changed (new or removed versions, a new model file or config) or whose last load
 * failed, and unloads those whose directory is gone. Each change swaps versions without downtime, as
 * {@link ModelManager#load} does. A change is acted on only when two polls in a row see the same files, so
 * that a model file still being copied in is never loaded half-written.
 *
 * <p>Not thread-safe: one poller's thread calls {@link #poll()}.
 */
final class RepositorySync {
  /** The longest wait between retries of unchanged files that failed to load, in polls. */
  private static final long MAX_RETRY_POLLS = 32;

  private final ModelManager models;
  private final ModelRepository repository;
  private final boolean onDemand;
  /** Each model's fingerprint at the last poll: a change is acted on only once the files stopped changing. */
  private final Map<String, String> lastPolled = new HashMap<>();
  /** Per failed model, the poll at which to try its unchanged files again and the wait after that. */
  private final Map<String, long[]> retries = new HashMap<>();
  private long polls;

  /**
   * @param onDemand models load on their first request (a memory budget in force): only models that are loaded
   *     are reloaded when their files change, and a poll never loads the others behind the budget's back
   */
  RepositorySync(ModelManager models, boolean onDemand) {
    this.models = models;
    this.repository = models.repository();
    this.onDemand = onDemand;
  }

  void poll() {
    Set<String> present = new HashSet<>(repository.modelNames());
    for (String name : Set.copyOf(present)) {
      ModelRecord current = models.record(name);
      if (onDemand && (current == null || !current.anyReady())) {
        continue;
      }
      String fingerprint = repository.fingerprint(name);
      String seenLastPoll = lastPolled.put(name, fingerprint);
      boolean changed = current == null || !fingerprint.equals(current.fingerprint());
      if (changed && !fingerprint.equals(seenLastPoll)) {
        continue; // still being written (a slow copy): act once the files stay the same for a poll
      }
      if (changed) {
        retries.remove(name); // new files: tried at once, and backed off afresh if they fail
      }
      if (!changed && current.hasFailures() && !retryDue(name)) {
        continue; // the same files failed before: try again later, waiting twice as long each time
      }
      if (changed || current.hasFailures()) {
        try {
          models.load(name);
        } catch (ModelNotFoundException e) {
          present.remove(name); // removed while we looked
        } catch (QueueFullException e) {
          // refused by the memory budget: logged by load; what serves goes on, and the next poll tries again
        }
      }
    }
    for (String name : models.recordedNames()) {
      if (!present.contains(name)) {
        models.forget(name);
      }
    }
    lastPolled.keySet().retainAll(present);
    retries.keySet().retainAll(present);
    polls++;
  }

  /**
   * Whether unchanged files that failed to load are due for another try: after 1, 2, 4 ... and then
   * every {@link #MAX_RETRY_POLLS} polls (something outside them, a library or a licence, may change).
   */
  private boolean retryDue(String name) {
    // first seen failed on the poll after the load: that poll is the first retry
    long[] retry = retries.computeIfAbsent(name, n -> new long[] {polls, 1});
    if (polls < retry[0]) {
      return false;
    }
    retry[1] = Math.min(MAX_RETRY_POLLS, retry[1] * 2);
    retry[0] = polls + retry[1];
    return true;
  }
}
