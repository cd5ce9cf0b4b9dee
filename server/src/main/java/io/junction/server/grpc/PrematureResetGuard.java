package io.junction.server.grpc;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.util.collection.IntObjectHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP/2 rapid-reset defence, by what a reset costs rather than how many there are. A client that
 * cancels calls, or whose deadlines pass, resets streams too; what marks an attack is resetting almost
 * every stream while the server is still working on it. So per connection and window this counts the
 * streams opened and the premature resets (an RST_STREAM of a stream the server has not finished: the client's,
 * or the server's own for a stream error the client provoked with a malformed frame, which costs the server the
 * same and would otherwise go uncounted: "MadeYouReset", CVE-2025-8671), and when there are at least
 * {@code minResets} of those and they are at least {@code maxRatio} of the
 * streams opened, it sends GOAWAY (ENHANCE_YOUR_CALM) and closes the connection, passing none of the
 * rest of its bytes on. Honest clients cancelling half their calls keep their connection. Resets of streams the
 * server had already finished, which it ignores, are counted too: an honest client sends at most one a stream (a
 * cancel racing its answer), so more than {@link #LATE_RESET_ALLOWANCE} past the streams opened is a flood.
 *
 * <p>Reads only frame headers, both directions.
 */
final class PrematureResetGuard extends CuttingGuard {
  private static final Logger log = LoggerFactory.getLogger(PrematureResetGuard.class);

  /**
   * @param minResets premature resets per window before the ratio is judged
   * @param maxRatio premature resets per stream opened, at or above which the connection goes
   * @param windowNanos the tumbling window both are counted over
   * @param onTrip told when a connection is closed for it (a metric)
   */
  record Policy(int minResets, double maxRatio, long windowNanos, Runnable onTrip) {}

  /**
   * Resets of finished streams past one a stream opened that a window takes: cancels racing answers that opened in
   * the window before, at most one a stream a connection may hold open (1,024 by default), with room to spare.
   */
  static final int LATE_RESET_ALLOWANCE = 2048;

  private final Policy policy;
  private final Http2FrameScanner outbound = new Http2FrameScanner(false);
  /**
   * Client streams the server has not finished (no END_STREAM or RST_STREAM from it yet). A primitive
   * map: this runs on the event loop for every stream, and boxed stream ids would be garbage per call.
   */
  private final IntObjectHashMap<Boolean> working = new IntObjectHashMap<>();
  // made once: a lambda per write would be garbage on the event loop
  private final Http2FrameScanner.Listener onServerFrame = (type, flags, stream, length) -> serverFrame(type, flags, stream);
  private int opened;
  private int premature;
  /** Client resets of streams already finished, in the window: at most one a stream from an honest client. */
  private int late;

  PrematureResetGuard(Policy policy) {
    this.policy = policy;
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
    boolean wasTripped = tripped();
    if (msg instanceof ByteBuf buf && !wasTripped) {
      outbound.scan(buf, onServerFrame);
    }
    super.write(ctx, msg, promise);
    if (tripped() && !wasTripped) {
      end(ctx); // tripped by the server's own resets, which the client provoked
    }
  }

  @Override
  void clientFrame(int type, int flags, int stream, int length) {
    if (type == Http2FrameScanner.HEADERS && stream > lastClientStream()) {
      working.put(stream, Boolean.TRUE);
      rollWindow();
      opened++;
    } else if (type == Http2FrameScanner.RST_STREAM) {
      if (working.remove(stream) != null) {
        prematureReset();
      } else {
        lateReset();
      }
    }
  }

  private void serverFrame(int type, int flags, int stream) {
    if (type == Http2FrameScanner.RST_STREAM) {
      // The server resets a stream it has not answered when the client made it (a stream error, a deadline it
      // set, an answer it would not take); after an answer the stream is no longer working.
      if (working.remove(stream) != null) {
        prematureReset();
      }
    } else if ((type == Http2FrameScanner.HEADERS || type == Http2FrameScanner.DATA)
        && (flags & Http2FrameScanner.END_STREAM) != 0) {
      working.remove(stream);
    }
  }

  private void prematureReset() {
    rollWindow();
    premature++;
    if (premature >= policy.minResets() && premature >= policy.maxRatio() * opened) {
      trip();
    }
  }

  /**
   * A reset of a stream the server had finished, which it ignores: a client cancelling a call whose answer was on
   * its way sends one, once; more than one a stream opened is a flood of frames that cost the server a read each.
   */
  private void lateReset() {
    rollWindow();
    late++;
    if (lateResetFlood()) {
      trip();
    }
  }

  private boolean lateResetFlood() {
    return late > opened + LATE_RESET_ALLOWANCE;
  }

  private void rollWindow() {
    if (windowRolled(policy.windowNanos())) {
      opened = 0;
      premature = 0;
      late = 0;
    }
  }

  @Override
  void cutOff(ChannelHandlerContext ctx) {
    policy.onTrip().run();
    if (lateResetFlood()) {
      log.warn("closing the connection from {}: {} resets in {} s of streams already finished, against {} streams "
          + "opened (a flood of resets)", ctx.channel().remoteAddress(), late, policy.windowNanos() / 1_000_000_000L,
          opened);
      return;
    }
    log.warn("closing the connection from {}: {} of its {} streams in {} s were reset while the server was still "
        + "working on them, by the client or for its malformed frames (HTTP/2 rapid reset)",
        ctx.channel().remoteAddress(), premature, opened, policy.windowNanos() / 1_000_000_000L);
  }
}
