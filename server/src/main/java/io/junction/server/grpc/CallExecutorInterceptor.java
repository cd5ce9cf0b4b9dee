package io.junction.server.grpc;

import com.google.common.util.concurrent.MoreExecutors;
import io.grpc.Context;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Chooses, per method, where a call's callbacks run: the inference methods on the transport thread that read
 * them, every other method on the call executor.
 *
 * <p>grpc-java hands each step of every call (its start, its message and half-close, its completion) to the
 * server's executor unless that executor is {@link MoreExecutors#directExecutor()}; on an idle or lightly loaded
 * server each step wakes a parked thread. A per-method choice ({@code ServerCallExecutorSupplier}) still starts
 * every call on the executor. So the server runs every callback where it arrives, and this interceptor, outermost,
 * moves the calls of the other methods back onto the executor: one callback at a time, in order, in the call's
 * context, as grpc-java's own executor does. An inference call then decodes, validates and queues its request on
 * the transport thread, which hands it to the model's batcher or device without a hop; that work is bounded and
 * never blocks (large requests are parsed on the {@link LargeRequestLane}, models are loaded asynchronously).
 * The methods that may block or take long (repository loads, admin changes, health watches, reflection) keep
 * their thread. What moves to the transport thread for every method is grpc-java's parsing of a request message
 * (its marshaller runs before the listener is called), bounded by the maximum inbound message size; ModelInfer's
 * marshaller leaves large requests unparsed for the lane.
 */
final class CallExecutorInterceptor implements ServerInterceptor {
  private static final Logger log = LoggerFactory.getLogger(CallExecutorInterceptor.class);

  private final Executor executor;
  private final Set<String> onTransportThread;

  /**
   * @param executor where the other methods' callbacks run; each call's run one at a time, in order
   * @param onTransportThread full names of the methods whose callbacks run on the transport thread
   */
  CallExecutorInterceptor(Executor executor, Set<String> onTransportThread) {
    this.executor = executor;
    this.onTransportThread = Set.copyOf(onTransportThread);
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    if (onTransportThread.contains(call.getMethodDescriptor().getFullMethodName())) {
      return next.startCall(call, headers);
    }
    OffloadedListener<Q> listener = new OffloadedListener<>(call, MoreExecutors.newSequentialExecutor(executor));
    listener.start(() -> next.startCall(call, headers));
    return listener;
  }

  /**
   * A call's listener whose callbacks run on an executor, in the order they arrive, each in the call's context (the
   * context current when the call started: its deadline and cancellation).
   */
  private static final class OffloadedListener<Q> extends ServerCall.Listener<Q> {
    private final ServerCall<Q, ?> call;
    private final Executor serial;
    private final Context context = Context.current();
    /** Set by the first task; read only by later ones, which the sequential executor orders after it. */
    private ServerCall.Listener<Q> delegate;

    OffloadedListener(ServerCall<Q, ?> call, Executor serial) {
      this.call = call;
      this.serial = serial;
    }

    void start(Supplier<ServerCall.Listener<Q>> handler) {
      submit(() -> delegate = handler.get());
    }

    @Override
    public void onMessage(Q message) {
      deliver(l -> l.onMessage(message));
    }

    @Override
    public void onHalfClose() {
      deliver(ServerCall.Listener::onHalfClose);
    }

    @Override
    public void onCancel() {
      deliver(ServerCall.Listener::onCancel);
    }

    @Override
    public void onComplete() {
      deliver(ServerCall.Listener::onComplete);
    }

    @Override
    public void onReady() {
      deliver(ServerCall.Listener::onReady);
    }

    private void deliver(Consumer<ServerCall.Listener<Q>> callback) {
      submit(() -> {
        if (delegate != null) { // null: the handler failed to start the call, which is closed already
          callback.accept(delegate);
        }
      });
    }

    private void submit(Runnable task) {
      try {
        serial.execute(() -> run(task));
      } catch (RejectedExecutionException e) {
        close(Status.UNAVAILABLE.withDescription("the server is shutting down"));
      }
    }

    /** Runs a task as grpc-java runs a callback on its executor: in the call's context, closing the call if it throws. */
    private void run(Runnable task) {
      Context previous = context.attach();
      try {
        task.run();
      } catch (RuntimeException e) {
        log.error("a {} call failed in its handler", call.getMethodDescriptor().getFullMethodName(), e);
        close(Status.UNKNOWN.withDescription("Application error processing RPC"));
      } catch (Error e) {
        close(Status.UNKNOWN.withDescription("Application error processing RPC"));
        throw e;
      } finally {
        context.detach(previous);
      }
    }

    private void close(Status status) {
      try {
        call.close(status, new Metadata());
      } catch (IllegalStateException e) {
        // closed already
      }
    }
  }
}
