package io.junction.loadtest;

import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.junction.proto.inference.GRPCInferenceServiceGrpc;
import io.junction.proto.inference.ModelInferRequest;
import io.junction.proto.inference.ModelStreamInferResponse;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Requests over ModelStreamInfer, as Triton's perf_analyzer sends them with {@code --streaming}: each caller of a
 * closed loop has a stream of its own (on the connections in turn) and sends its next request when the previous
 * one is answered; an open loop spreads its requests over one stream per connection. A stream answers in the
 * order it was asked, so each answer belongs to the oldest request of its stream still unanswered. An answer
 * with an {@code error_message} is a failed request, with the status its message starts with
 * ({@code NOT_FOUND: ...}, as Junction writes it; UNKNOWN otherwise), and the stream goes on.
 *
 * <p>Streams last the whole run, so they carry no deadline: a request still unanswered after the timeout fails
 * as DEADLINE_EXCEEDED, and its stream, whose later answers would all come behind it, is cancelled (the requests
 * after it fail as CANCELLED) and opened anew for the next request. A stream that the server ends or breaks fails
 * the requests it still holds with its status.
 */
final class StreamCalls implements Calls {
  private final List<GRPCInferenceServiceGrpc.GRPCInferenceServiceStub> stubs;
  private final long timeoutNanos;
  /** Open streams: a closed loop's by caller (0, 1, ...), an open loop's by -1 - connection. */
  private final ConcurrentHashMap<Integer, Stream> streams = new ConcurrentHashMap<>();
  private final AtomicLong nextConnection = new AtomicLong();
  /** Fails the requests that outlive the timeout; null without one. */
  private final ScheduledExecutorService deadlines;

  /** @param timeoutNanos how long a request may wait for its answer, 0 for no limit */
  StreamCalls(List<? extends Channel> channels, long timeoutNanos) {
    this.stubs = Calls.stubsOn(channels, GRPCInferenceServiceGrpc::newStub);
    this.timeoutNanos = timeoutNanos;
    if (timeoutNanos > 0) {
      deadlines = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "loadtest-stream-deadlines");
        t.setDaemon(true);
        return t;
      });
      long period = Math.max(TimeUnit.MILLISECONDS.toNanos(1), Math.min(TimeUnit.MILLISECONDS.toNanos(100),
          timeoutNanos / 10));
      deadlines.scheduleWithFixedDelay(this::expire, period, period, TimeUnit.NANOSECONDS);
    } else {
      deadlines = null;
    }
  }

  @Override
  public void send(int caller, ModelInferRequest request, Outcome outcome) {
    int connection = caller >= 0 ? caller % stubs.size() : (int) (nextConnection.getAndIncrement() % stubs.size());
    int key = caller >= 0 ? caller : -1 - connection;
    while (true) {
      Stream stream = streams.computeIfAbsent(key, k -> new Stream(k, stubs.get(connection)));
      if (stream.send(request, outcome)) {
        return;
      }
      streams.remove(key, stream); // it ended before this request: the next stream takes it
    }
  }

  @Override
  public long timeoutNanos() {
    return timeoutNanos;
  }

  private void expire() {
    long now = System.nanoTime();
    streams.values().forEach(s -> s.expire(now));
  }

  /** Half-closes every stream: the server answers what it holds and ends them. */
  @Override
  public void close() {
    if (deadlines != null) {
      deadlines.shutdownNow();
    }
    streams.values().forEach(Stream::finish);
    streams.clear();
  }

  /**
   * The status an answer's {@code error_message} names: Junction writes {@code CODE: description} (gRPC's code
   * names); a message in another form (Triton's) is UNKNOWN with the whole message.
   */
  static Status status(String errorMessage) {
    int colon = errorMessage.indexOf(':');
    String code = (colon < 0 ? errorMessage : errorMessage.substring(0, colon)).trim();
    try {
      Status.Code c = Status.Code.valueOf(code);
      if (c != Status.Code.OK) {
        return c.toStatus().withDescription(colon < 0 ? null : errorMessage.substring(colon + 1).trim());
      }
    } catch (IllegalArgumentException notACode) {
      // falls through
    }
    return Status.UNKNOWN.withDescription(errorMessage);
  }

  private record Pending(Outcome outcome, long sentNanos) {}

  /** One stream: the requests it was sent and not yet answered, oldest first. */
  private final class Stream implements ClientResponseObserver<ModelInferRequest, ModelStreamInferResponse> {
    private final int key;
    private final GRPCInferenceServiceGrpc.GRPCInferenceServiceStub stub;
    /** Guarded by this, as is everything below. */
    private final ArrayDeque<Pending> pending = new ArrayDeque<>();
    private ClientCallStreamObserver<ModelInferRequest> requests;
    /** Ended, broken, cancelled or half-closed: takes no more requests. */
    private boolean ended;

    Stream(int key, GRPCInferenceServiceGrpc.GRPCInferenceServiceStub stub) {
      this.key = key;
      this.stub = stub;
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<ModelInferRequest> requestStream) {
      requests = requestStream;
    }

    /** False when the stream had ended before this request: it was not sent. */
    synchronized boolean send(ModelInferRequest request, Outcome outcome) {
      if (ended) {
        return false;
      }
      pending.addLast(new Pending(outcome, System.nanoTime()));
      if (requests == null) {
        stub.modelStreamInfer(this); // opened with its first request (a stream that fails at once fails it)
      }
      if (!ended) {
        requests.onNext(request);
      }
      return true;
    }

    @Override
    public void onNext(ModelStreamInferResponse answer) {
      Pending head;
      synchronized (this) {
        head = pending.pollFirst();
      }
      if (head == null) {
        return; // an answer nobody asked for: nothing to count it against
      }
      if (answer.getErrorMessage().isEmpty()) {
        head.outcome().answered(answer.getInferResponse());
      } else {
        head.outcome().failed(status(answer.getErrorMessage()));
      }
    }

    @Override
    public void onError(Throwable t) {
      failAll(Status.fromThrowable(t));
    }

    @Override
    public void onCompleted() {
      failAll(Status.UNAVAILABLE.withDescription("the server ended the stream before answering"));
    }

    /** Ends the stream, failing what it holds; answers already given stand. */
    private void failAll(Status status) {
      List<Pending> unanswered;
      synchronized (this) {
        ended = true;
        unanswered = new ArrayList<>(pending);
        pending.clear();
      }
      streams.remove(key, this);
      unanswered.forEach(p -> p.outcome().failed(status));
    }

    /** Fails the oldest request if it outlived the timeout, and cancels the stream behind it. */
    void expire(long now) {
      Pending late;
      List<Pending> behind;
      synchronized (this) {
        Pending head = pending.peekFirst();
        if (ended || head == null || now - head.sentNanos() < timeoutNanos) {
          return;
        }
        ended = true;
        late = pending.pollFirst();
        behind = new ArrayList<>(pending);
        pending.clear();
        requests.cancel("a request went unanswered for longer than the timeout", null);
      }
      streams.remove(key, this);
      late.outcome().failed(Status.DEADLINE_EXCEEDED);
      behind.forEach(p -> p.outcome().failed(Status.CANCELLED.withDescription(
          "the stream was cancelled: a request before this one went unanswered for longer than the timeout")));
    }

    synchronized void finish() {
      if (!ended && requests != null) {
        ended = true;
        requests.onCompleted();
      }
    }
  }
}
