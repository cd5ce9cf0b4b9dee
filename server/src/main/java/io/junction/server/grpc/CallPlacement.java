package io.junction.server.grpc;

import io.grpc.Attributes;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallExecutorSupplier;
import io.grpc.ServerStreamTracer;
import io.grpc.ServerTransportFilter;
import java.util.Set;
import java.util.concurrent.Executor;

/**
 * Chooses, per call, where its callbacks run: the inference methods on the transport thread that reads them,
 * unless their connection sends large requests; every other method on the call executor.
 *
 * <p>The server's own executor is the direct one, so by default a callback runs where it arrives. grpc-java
 * asks this supplier for each call before starting it (on that same transport thread) and runs the call's start
 * and callbacks on the executor returned, one at a time, in order, in the call's context; null leaves the call
 * where it is. An inference call on the transport thread decodes, validates and queues its request, which goes
 * to the model's batcher or device without a hop, and runs it there when it is a lone request of a model whose runs
 * take under 100 µs (UnaryInferHandler, StreamInferSession); that work is bounded and never blocks (models load asynchronously, requests
 * from {@code --grpc-large-request-bytes} are parsed on the {@link LargeRequestLane}).
 * The other methods may block or take long (repository loads, admin changes, health watches, reflection), so
 * they get the executor's threads.
 *
 * <p>Requests of hundreds of KiB are the exception: served on the event loop, calls of 602 KB images (602 KB
 * answers) ran at 0.68 of the rate they reach on the executor, the event loop's buffers churning (BENCHMARKS.md,
 * "The 602 KB regression"), while 110 KB images ran 10-17 % faster there. The size of a call's request is known
 * only once its message arrives, after its executor is chosen, so the choice follows the connection: a call of
 * an inference method runs on the executor when the last request its connection sent to one of them was
 * {@code offloadBytes} or more. A client that sends large and small requests on one connection moves between
 * the two a call late, which costs either side a little and is never wrong. A ModelStreamInfer stream is placed
 * once, when it starts; streams of 602 KB requests measured as fast on the event loop as on the executor
 * (BENCHMARKS.md, "Large requests over streams").
 */
final class CallPlacement implements ServerCallExecutorSupplier {
  /** Where placement's memory of a connection lives: in its transport attributes, which every call sees. */
  private static final Attributes.Key<LastRequest> LAST_REQUEST = Attributes.Key.create("junction.last-request");

  private final Executor executor;
  private final Set<String> onTransportThread;
  private final int offloadBytes;

  /**
   * @param executor where the calls that do not stay on the transport thread run
   * @param onTransportThread full names of the methods whose calls run on the transport thread
   * @param offloadBytes the request size from which a connection's calls of those methods move to {@code executor}
   */
  CallPlacement(Executor executor, Set<String> onTransportThread, int offloadBytes) {
    this.executor = executor;
    this.onTransportThread = Set.copyOf(onTransportThread);
    this.offloadBytes = offloadBytes;
  }

  @Override
  public <Q, R> Executor getExecutor(ServerCall<Q, R> call, Metadata headers) {
    if (!onTransportThread.contains(call.getMethodDescriptor().getFullMethodName())) {
      return executor;
    }
    LastRequest last = call.getAttributes().get(LAST_REQUEST);
    return last != null && last.bytes >= offloadBytes ? executor : null;
  }

  /** Gives each connection its memory of the last request; to be added to the server. */
  ServerTransportFilter connections() {
    return new ServerTransportFilter() {
      @Override
      public Attributes transportReady(Attributes attributes) {
        return attributes.toBuilder().set(LAST_REQUEST, new LastRequest()).build();
      }
    };
  }

  /** Notes the size of each request of a method on the transport thread in its connection's memory; to be added to the server. */
  ServerStreamTracer.Factory requestSizes() {
    return new ServerStreamTracer.Factory() {
      @Override
      public ServerStreamTracer newServerStreamTracer(String fullMethodName, Metadata headers) {
        return onTransportThread.contains(fullMethodName) ? new RequestSizeTracer() : IGNORED;
      }
    };
  }

  private static final ServerStreamTracer IGNORED = new ServerStreamTracer() { };

  /**
   * The size of the last request a connection sent to a method on the transport thread. Written as each message
   * is read and read as each call starts, both on the connection's event loop; volatile all the same, as the
   * guarantee is grpc-java's, not this class's.
   */
  private static final class LastRequest {
    private volatile long bytes;
  }

  /** One call's: finds its connection's memory when the call starts, and updates it as each request is read. */
  private static final class RequestSizeTracer extends ServerStreamTracer {
    private LastRequest connection;

    @Override
    public void serverCallStarted(ServerCallInfo<?, ?> callInfo) {
      connection = callInfo.getAttributes().get(LAST_REQUEST);
    }

    @Override
    public void inboundMessageRead(int seqNo, long wireBytes, long uncompressedBytes) {
      LastRequest last = connection;
      if (last != null) {
        last.bytes = Math.max(wireBytes, uncompressedBytes);
      }
    }
  }
}
