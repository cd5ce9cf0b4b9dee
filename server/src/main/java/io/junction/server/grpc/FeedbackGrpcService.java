package io.junction.server.grpc;

import static io.junction.server.grpc.Replies.reply;

import io.grpc.stub.StreamObserver;
import io.junction.proto.feedback.v1.FeedbackServiceGrpc;
import io.junction.proto.feedback.v1.RecordRequest;
import io.junction.proto.feedback.v1.RecordResponse;
import io.junction.server.outcomes.OutcomeTracker;
import io.junction.server.protocol.FeedbackMapper;

/** {@code junction.feedback.v1.FeedbackService}: business outcomes of earlier requests, for A/B tests. */
public final class FeedbackGrpcService extends FeedbackServiceGrpc.FeedbackServiceImplBase {
  private final OutcomeTracker outcomes;

  public FeedbackGrpcService(OutcomeTracker outcomes) {
    this.outcomes = outcomes;
  }

  @Override
  public void record(RecordRequest request, StreamObserver<RecordResponse> out) {
    reply(out, () -> FeedbackMapper.response(outcomes.record(FeedbackMapper.items(request))));
  }
}
