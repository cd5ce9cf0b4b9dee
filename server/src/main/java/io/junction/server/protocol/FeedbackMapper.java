package io.junction.server.protocol;

import io.junction.proto.feedback.v1.Outcome;
import io.junction.proto.feedback.v1.RecordRequest;
import io.junction.proto.feedback.v1.RecordResponse;
import io.junction.server.errors.InvalidInputException;
import io.junction.server.outcomes.Feedback;
import io.junction.server.outcomes.FeedbackResult;
import java.util.ArrayList;
import java.util.List;

/** Feedback between the protocol's messages (gRPC and REST alike) and the outcome tracker's records. */
public final class FeedbackMapper {
  /** Items one call may carry; more are refused whole, so one call cannot hold the tracker for long. */
  public static final int MAX_OUTCOMES_PER_CALL = 10_000;

  private FeedbackMapper() {}

  public static List<Feedback> items(RecordRequest request) {
    if (request.getOutcomesCount() == 0) {
      throw new InvalidInputException("feedback needs at least one outcome");
    }
    if (request.getOutcomesCount() > MAX_OUTCOMES_PER_CALL) {
      throw new InvalidInputException("feedback carries " + request.getOutcomesCount() + " outcomes; at most "
          + MAX_OUTCOMES_PER_CALL + " per call");
    }
    List<Feedback> items = new ArrayList<>(request.getOutcomesCount());
    for (Outcome o : request.getOutcomesList()) {
      items.add(new Feedback(o.getRequestId(), o.getOutcome(), o.getValue()));
    }
    return items;
  }

  public static RecordResponse response(FeedbackResult r) {
    return RecordResponse.newBuilder().setAccepted(r.accepted()).setUnknown(r.unknown()).setExpired(r.expired())
        .setRejected(r.rejected()).addAllProblems(r.problems()).build();
  }
}
