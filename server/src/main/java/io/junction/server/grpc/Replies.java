package io.junction.server.grpc;

import io.grpc.stub.StreamObserver;
import java.util.function.Supplier;

/** Answers a unary call with what {@code answer} computes, or with the status of what it threw. */
final class Replies {
  private Replies() {}

  static <T> void reply(StreamObserver<T> out, Supplier<T> answer) {
    T response;
    try {
      response = answer.get();
    } catch (RuntimeException e) {
      out.onError(StatusTranslator.toStatus(e));
      return;
    }
    out.onNext(response);
    out.onCompleted();
  }
}
