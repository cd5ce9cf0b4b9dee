package io.junction.server.scheduling;

import io.junction.server.errors.JunctionException;
import io.junction.server.errors.QueueFullException;
import io.junction.server.model.ServedModel;
import java.util.concurrent.CompletableFuture;

/**
 * Decides when and where requests run. The transport {@linkplain #admit admits} a request as soon as
 * it knows the model, decodes it, then submits it on the ticket (or abandons the ticket when decoding
 * fails). Admission lets the scheduler know a request is on its way, so it can wait for it rather than
 * dispatch a smaller batch.
 */
public interface InferenceScheduler extends AutoCloseable {
  /** Announces a request for {@code model} that is being decoded. */
  Ticket admit(ServedModel model);

  /** One admitted request; exactly one of its methods must be called, once. */
  interface Ticket {
    /**
     * Queues the decoded request. On success the scheduler owns it until the returned future completes,
     * and takes over one reference on its {@link InferenceRequest#inputsMemory()}, which it releases once no
     * batch will read the inputs (after the future completed, when that was cancelled while its batch ran);
     * on failure (an exception thrown, e.g. {@link QueueFullException}) the
     * caller still owns both.
     *
     * @return completes with the result, or exceptionally with a
     *     {@link JunctionException} that says what went wrong; cancelling it
     *     takes the request out of the queue if it has not run yet
     */
    CompletableFuture<InferenceResult> submit(InferenceRequest request);

    /** The request will not come (it failed to decode). */
    void abandon();
  }

  /** Stops taking requests, finishes those accepted, and releases threads. */
  @Override
  void close();
}
