package io.junction.server.grpc;

import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2RemoteFlowController;
import io.netty.util.collection.IntObjectHashMap;
import java.util.ArrayList;
import java.util.List;

/**
 * The answers of one connection that wait on the client's flow-control window, and which of them stalled: less than
 * {@link #PROGRESS_BYTES} of one went out in the stall timeout. A client that stopped reading, never returns window,
 * or returns it a few bytes at a time would otherwise keep its unsent answer in server memory for as long as the
 * connection lives; one that takes its answer slowly but steadily keeps it. Told of the frames the server writes,
 * asked once a second; runs on the connection's event loop.
 */
final class UntakenAnswers {
  /**
   * What of an answer must go out within the stall timeout for it to count as moving: one DATA frame of HTTP/2's
   * default size. Honest clients return window in steps of half their window or more (grpc-java and Netty do), so
   * only a client dripping window gets less.
   */
  static final int PROGRESS_BYTES = 16 * 1024;

  /** An answer waiting on the window: since when it has been judged, and what of it went out since. */
  private static final class Wait {
    long sinceNanos;
    long sentBytes;

    Wait(long sinceNanos) {
      this.sinceNanos = sinceNanos;
    }
  }

  /** grpc-java's view of the connection: which streams have answers waiting on the client's window. */
  private final Http2Connection connection;
  private final long stallNanos;
  private IntObjectHashMap<Wait> waiting = new IntObjectHashMap<>();

  UntakenAnswers(Http2Connection connection, long stallNanos) {
    this.connection = connection;
    this.stallNanos = stallNanos;
  }

  long stallNanos() {
    return stallNanos;
  }

  /** The server wrote a frame of {@code type} and {@code length} on {@code stream}; {@code ends} if it ends it. */
  void serverFrame(int type, int stream, int length, boolean ends) {
    if (waiting.isEmpty()) {
      return;
    }
    Wait wait = waiting.get(stream);
    if (wait == null) {
      return;
    }
    if (ends) {
      waiting.remove(stream);
    } else if (type == Http2FrameScanner.DATA && (wait.sentBytes += length) >= PROGRESS_BYTES) {
      wait.sinceNanos = System.nanoTime(); // the client took a frame's worth: the answer moves
      wait.sentBytes = 0;
    }
  }

  /** The stream is gone (the client reset it). */
  void forget(int stream) {
    waiting.remove(stream);
  }

  void clear() {
    waiting.clear();
  }

  /** Whether any call of the connection is open, and so worth another look. */
  boolean anyOpen() {
    return connection.numActiveStreams() > 0;
  }

  /**
   * Looks at every open stream: those whose answer now waits on the window are followed from {@code now}, those that
   * stalled are returned (and forgotten), those no longer waiting are forgotten.
   */
  List<Integer> stalled(long now) {
    if (!anyOpen()) {
      waiting.clear();
      return List.of();
    }
    Http2RemoteFlowController flow = connection.remote().flowController();
    IntObjectHashMap<Wait> stillWaiting = new IntObjectHashMap<>();
    List<Integer> stalled = new ArrayList<>();
    try {
      connection.forEachActiveStream(stream -> {
        if (flow.hasFlowControlled(stream)) {
          Wait wait = waiting.get(stream.id());
          if (wait == null) {
            stillWaiting.put(stream.id(), new Wait(now));
          } else if (now - wait.sinceNanos > stallNanos) {
            stalled.add(stream.id());
          } else {
            stillWaiting.put(stream.id(), wait);
          }
        }
        return true;
      });
    } catch (Http2Exception e) {
      throw new IllegalStateException("visiting the connection's streams", e); // the visitor throws none
    }
    waiting = stillWaiting;
    return stalled;
  }
}
