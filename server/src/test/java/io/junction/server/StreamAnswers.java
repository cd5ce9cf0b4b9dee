package io.junction.server;

import io.grpc.stub.StreamObserver;
import io.junction.proto.inference.ModelStreamInferResponse;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/** Collects the answers of a ModelStreamInfer stream, in the order they came, until the server ends it. */
public final class StreamAnswers implements StreamObserver<ModelStreamInferResponse> {
  private final List<ModelStreamInferResponse> answers = new CopyOnWriteArrayList<>();
  private final CompletableFuture<Void> done = new CompletableFuture<>();

  @Override
  public void onNext(ModelStreamInferResponse value) {
    answers.add(value);
  }

  @Override
  public void onError(Throwable t) {
    done.completeExceptionally(t);
  }

  @Override
  public void onCompleted() {
    done.complete(null);
  }

  /** Waits up to {@code seconds} for the stream to end; then its answers, or the stream's failure. */
  public List<ModelStreamInferResponse> await(long seconds) throws Exception {
    done.get(seconds, TimeUnit.SECONDS);
    return answers;
  }
}
