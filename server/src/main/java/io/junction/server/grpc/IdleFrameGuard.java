package io.junction.server.grpc;

import io.netty.channel.ChannelHandlerContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP/2 defence against floods of frames that make the server work for nothing: SETTINGS it must apply and
 * acknowledge, PRIORITY frames, and DATA frames with no data that do not end their stream (the "settings flood" and
 * "empty frames flood" of CVE-2019-9515 and -9518). grpc-java builds its HTTP/2 handler without Netty's limit on
 * empty frames, and answered a client that sent nothing else at millions a second for as long as it liked, a core's
 * worth of the event loop that other connections share. Honest clients send a handful of these a connection (the
 * opening SETTINGS), so past {@code maxIdleFrames} in a window the connection is cut off. Pings are grpc-java's to
 * police (its keepalive enforcement).
 */
final class IdleFrameGuard extends CuttingGuard {
  private static final Logger log = LoggerFactory.getLogger(IdleFrameGuard.class);
  private static final int SETTINGS = 0x4;
  private static final int PRIORITY = 0x2;
  private static final int ACK = 0x1;

  /**
   * @param maxIdleFrames frames that ask for work without carrying any, per window, above which the connection goes
   * @param windowNanos the tumbling window they are counted over
   * @param onTrip told when a connection is closed for it (a metric)
   */
  record Policy(int maxIdleFrames, long windowNanos, Runnable onTrip) {}

  private final Policy policy;
  private int idle;

  IdleFrameGuard(Policy policy) {
    this.policy = policy;
  }

  @Override
  void clientFrame(int type, int flags, int stream, int length) {
    boolean idleFrame = (type == SETTINGS && (flags & ACK) == 0) || type == PRIORITY
        || (type == Http2FrameScanner.DATA && length == 0 && (flags & Http2FrameScanner.END_STREAM) == 0);
    if (!idleFrame) {
      return;
    }
    if (windowRolled(policy.windowNanos())) {
      idle = 0;
    }
    if (++idle > policy.maxIdleFrames()) {
      trip();
    }
  }

  @Override
  void cutOff(ChannelHandlerContext ctx) {
    policy.onTrip().run();
    log.warn("closing the connection from {}: more than {} frames in {} s that asked for work and carried none "
        + "(SETTINGS, PRIORITY, empty DATA)", ctx.channel().remoteAddress(), policy.maxIdleFrames(),
        policy.windowNanos() / 1_000_000_000L);
  }
}
