package io.junction.server.grpc;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP/2 defence against floods of frames that make the server work for nothing: SETTINGS it must apply and
 * acknowledge, PRIORITY frames, and DATA frames with no data that do not end their stream (the "settings flood" and
 * "empty frames flood" of CVE-2019-9515 and -9518). grpc-java builds its HTTP/2 handler without Netty's limit on
 * empty frames, and answered a client that sent nothing else at millions a second for as long as it liked, a core's
 * worth of the event loop that other connections share. Honest clients send a handful of these a connection (the
 * opening SETTINGS), so past {@code maxIdleFrames} in a window the connection is cut off.
 *
 * <p>WINDOW_UPDATE frames are judged by what the server sent: a client returns window for the DATA it read, at most
 * one update for the stream and one for the connection a frame, and a DATA frame that takes window is at least 10
 * bytes on the wire. So a window takes {@code maxIdleFrames}, one more a stream the client opened, and two more for
 * every 10 bytes the server wrote in it and the window before; past that the updates ask for nothing the server has
 * to send (a flood of one-byte increments went through at six million a second, and would take 2^31 frames to
 * overflow a window).
 * Pings are grpc-java's to police (its keepalive enforcement).
 */
final class IdleFrameGuard extends CuttingGuard {
  private static final Logger log = LoggerFactory.getLogger(IdleFrameGuard.class);
  private static final int SETTINGS = 0x4;
  private static final int PRIORITY = 0x2;
  private static final int ACK = 0x1;
  private static final int WINDOW_UPDATE = 0x8;
  /** The smallest DATA frame with data, on the wire: its header and a byte. */
  private static final int SMALLEST_DATA_FRAME = 10;

  /**
   * @param maxIdleFrames frames that ask for work without carrying any, per window, above which the connection goes
   * @param windowNanos the tumbling window they are counted over
   * @param onTrip told when a connection is closed for it (a metric)
   */
  record Policy(int maxIdleFrames, long windowNanos, Runnable onTrip) {}

  private final Policy policy;
  private int idle;
  private int windowUpdates;
  private int streamsOpened;
  private long written;
  private long writtenWindowBefore;

  IdleFrameGuard(Policy policy) {
    this.policy = policy;
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
    if (msg instanceof ByteBuf buf) {
      written += buf.readableBytes();
    }
    super.write(ctx, msg, promise);
  }

  @Override
  void clientFrame(int type, int flags, int stream, int length) {
    boolean idleFrame = (type == SETTINGS && (flags & ACK) == 0) || type == PRIORITY
        || (type == Http2FrameScanner.DATA && length == 0 && (flags & Http2FrameScanner.END_STREAM) == 0);
    if (idleFrame) {
      rollWindow();
      if (++idle > policy.maxIdleFrames()) {
        trip();
      }
    } else if (type == WINDOW_UPDATE) {
      rollWindow();
      if (++windowUpdates > windowUpdatesEarned()) {
        trip();
      }
    } else if (type == Http2FrameScanner.HEADERS && stream > lastClientStream()) {
      streamsOpened++;
    }
  }

  private long windowUpdatesEarned() {
    return policy.maxIdleFrames() + streamsOpened + 2 * (written + writtenWindowBefore) / SMALLEST_DATA_FRAME;
  }

  private void rollWindow() {
    if (windowRolled(policy.windowNanos())) {
      idle = 0;
      windowUpdates = 0;
      streamsOpened = 0;
      writtenWindowBefore = written;
      written = 0;
    }
  }

  @Override
  void cutOff(ChannelHandlerContext ctx) {
    policy.onTrip().run();
    long seconds = policy.windowNanos() / 1_000_000_000L;
    if (idle > policy.maxIdleFrames()) {
      log.warn("closing the connection from {}: more than {} frames in {} s that asked for work and carried none "
          + "(SETTINGS, PRIORITY, empty DATA)", ctx.channel().remoteAddress(), policy.maxIdleFrames(), seconds);
    } else {
      log.warn("closing the connection from {}: {} WINDOW_UPDATE frames in {} s, more than the {} the server's {} "
          + "bytes sent and {} streams opened account for", ctx.channel().remoteAddress(), windowUpdates, seconds,
          windowUpdatesEarned(), written + writtenWindowBefore, streamsOpened);
    }
  }
}
