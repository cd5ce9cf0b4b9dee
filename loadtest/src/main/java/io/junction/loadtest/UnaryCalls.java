package io.junction.loadtest;

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.MoreExecutors;
import io.grpc.Channel;
import io.grpc.Status;
import io.junction.proto.inference.GRPCInferenceServiceGrpc;
import io.junction.proto.inference.ModelInferRequest;
import io.junction.proto.inference.ModelInferResponse;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/** Each request its own ModelInfer call, with the timeout as its deadline, over the connections in turn. */
final class UnaryCalls implements Calls {
  private final List<GRPCInferenceServiceGrpc.GRPCInferenceServiceFutureStub> stubs;
  private final AtomicLong next = new AtomicLong();
  private final long timeoutNanos;

  /** @param timeoutNanos each call's deadline, 0 for none */
  UnaryCalls(List<? extends Channel> channels, long timeoutNanos) {
    this.stubs = Calls.stubsOn(channels, GRPCInferenceServiceGrpc::newFutureStub);
    this.timeoutNanos = timeoutNanos;
  }

  @Override
  public void send(int caller, ModelInferRequest request, Outcome outcome) {
    var stub = stubs.get((int) (next.getAndIncrement() % stubs.size()));
    var withDeadline = timeoutNanos > 0 ? stub.withDeadlineAfter(timeoutNanos, TimeUnit.NANOSECONDS) : stub;
    Futures.addCallback(withDeadline.modelInfer(request), new FutureCallback<ModelInferResponse>() {
      @Override
      public void onSuccess(ModelInferResponse response) {
        outcome.answered(response);
      }

      @Override
      public void onFailure(Throwable t) {
        outcome.failed(Status.fromThrowable(t));
      }
    }, MoreExecutors.directExecutor());
  }

  @Override
  public long timeoutNanos() {
    return timeoutNanos;
  }

  @Override
  public void close() {}
}
