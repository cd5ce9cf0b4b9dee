package io.junction.server.model;

import io.junction.server.errors.InferenceFailedException;
import io.junction.server.errors.QueueFullException;
import io.junction.server.errors.QueueTimeoutException;
import io.junction.server.errors.RequestCancelledException;
import io.junction.server.errors.RequestTimeoutException;
import java.util.concurrent.CancellationException;

/** Why a request failed, in the categories of Triton's {@code nv_inference_request_failure{reason}}. */
public enum FailureReason {
  /** turned away by the queue: full, or its queue timeout or deadline passed while it waited */
  REJECTED,
  /** the client cancelled it */
  CANCELED,
  /** the model's execution failed */
  BACKEND,
  /** anything else: invalid input, the model going away, ... */
  OTHER;

  public static FailureReason of(Throwable failure) {
    if (failure instanceof QueueFullException || failure instanceof QueueTimeoutException
        || failure instanceof RequestTimeoutException) {
      return REJECTED;
    }
    if (failure instanceof RequestCancelledException || failure instanceof CancellationException) {
      return CANCELED;
    }
    if (failure instanceof InferenceFailedException) {
      return BACKEND;
    }
    return OTHER;
  }
}
