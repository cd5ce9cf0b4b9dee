package io.junction.loadtest;

import io.grpc.Channel;
import io.grpc.Status;
import io.junction.proto.inference.ModelInferRequest;
import io.junction.proto.inference.ModelInferResponse;
import java.util.List;
import java.util.function.Function;

/**
 * How the requests of a load reach the server: each as its own ModelInfer call ({@link UnaryCalls}), or one
 * after another over ModelStreamInfer streams ({@link StreamCalls}).
 */
interface Calls extends AutoCloseable {
  /** How one request ended: exactly one of the two, once. */
  interface Outcome {
    void answered(ModelInferResponse response);

    void failed(Status status);
  }

  /**
   * Sends one request.
   *
   * @param caller the closed loop's caller sending it (0, 1, ...), or -1 for a request of an open loop
   */
  void send(int caller, ModelInferRequest request, Outcome outcome);

  /** How long a request may wait for its answer (0: no limit). */
  long timeoutNanos();

  /** Ends what this holds open (streams); requests still unanswered may fail. */
  @Override
  void close();

  /** One stub per connection, in the order given; a load needs at least one connection. */
  static <S> List<S> stubsOn(List<? extends Channel> channels, Function<Channel, S> stub) {
    if (channels.isEmpty()) {
      throw new IllegalArgumentException("calls need a connection");
    }
    return channels.stream().<S>map(stub).toList();
  }
}
