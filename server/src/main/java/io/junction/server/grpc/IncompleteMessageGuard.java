package io.junction.server.grpc;

import io.grpc.Status;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersEncoder;
import io.netty.util.collection.IntObjectHashMap;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bounds what gRPC messages still arriving may hold on one connection (and, through the shared
 * {@link IncompleteMessageBudget}, on all of them), and ends messages that stall. grpc-java keeps every
 * byte of a message until the last one has come and grants the sender window as it goes; this guard
 * follows the gRPC length prefixes in the client's DATA frames to know what each stream holds.
 *
 * <p>A stream cut here is answered at once with trailers (RESOURCE_EXHAUSTED, or DEADLINE_EXCEEDED for
 * a stall) and RST_STREAM(NO_ERROR), and grpc-java is handed an RST_STREAM(CANCEL) for it at the next
 * frame boundary, so it frees the stream exactly as when a client cancels. Other streams of the
 * connection carry on. Bytes of a cut stream still in flight pass on to grpc-java, which discards them
 * and returns their connection window.
 *
 * <p>Answers too: one that stalls on the client's flow-control window ({@link UntakenAnswers}) has its stream reset
 * with RST_STREAM(CANCEL) both ways, so grpc-java drops what it held for it.
 *
 * <p>Sits beside the {@link PrematureResetGuard}, after it, so the resets it injects are not counted
 * as the client's. Runs on the connection's event loop: one instance per connection. Messages that
 * arrive whole in one frame cost no shared counter update.
 */
final class IncompleteMessageGuard extends ChannelDuplexHandler {
  private static final Logger log = LoggerFactory.getLogger(IncompleteMessageGuard.class);
  private static final int RST_STREAM_TYPE = 0x3;
  private static final int HEADERS_TYPE = 0x1;
  private static final int END_STREAM_END_HEADERS = 0x5;
  private static final int NO_ERROR = 0x0;
  private static final int CANCEL = 0x8;
  private static final int PREFIX_BYTES = 5;
  private static final long TICK_NANOS = TimeUnit.SECONDS.toNanos(1);

  /** One client stream: the message it is sending now. */
  private static final class Progress {
    int prefixRead;
    long length;
    long bodyRemaining;
    long held;
    long startedNanos;
    boolean serverSentHeaders;
  }

  private final IncompleteMessageBudget budget;
  private final UntakenAnswers answers;
  private final Http2FrameScanner inbound = new Http2FrameScanner(true);
  private final Http2FrameScanner outbound = new Http2FrameScanner(false);
  private final IntObjectHashMap<Progress> streams = new IntObjectHashMap<>();
  private int lastClientStream;
  /** Bytes of this connection's messages not yet complete. */
  private long held;
  private ChannelHandlerContext ctx;
  private ScheduledFuture<?> ticker;
  private long readNanos;

  // the inbound DATA frame being scanned, when its stream is followed
  private Progress frame;
  private int frameStream;
  private int frameFlags;
  /** Data bytes of the frame still to come (its padding excluded); -1 until a padded frame's pad length is read. */
  private int frameData;
  private int frameLength;

  /** Streams cut whose RST_STREAM grpc-java has not been handed yet (it must go in at a frame boundary). */
  private final List<Integer> owedCancels = new ArrayList<>();
  /** Owed resets to hand grpc-java at a frame boundary: where in the buffer being read, and the frames. */
  private record Splice(int at, ByteBuf frames) {}

  private final List<Splice> splices = new ArrayList<>();
  private Http2HeadersEncoder trailerEncoder;

  private final Http2FrameScanner.Listener onClientBytes = new Http2FrameScanner.Listener() {
    @Override
    public void frame(int type, int flags, int stream, int length) {
      clientFrame(type, flags, stream, length);
    }

    @Override
    public void payload(ByteBuf buf, int index, int length) {
      if (frame != null) {
        clientData(buf, index, length);
      }
    }

    @Override
    public void frameEnd(int index) {
      clientFrameEnd(index);
    }
  };
  private final Http2FrameScanner.Listener onServerBytes = this::serverFrame;

  /**
   * @param connection the HTTP/2 connection grpc-java serves this connection's calls on
   * @param answerStallTimeout how long an answer may wait on the client's window with less than a frame of it going out
   */
  IncompleteMessageGuard(IncompleteMessageBudget budget, Http2Connection connection, Duration answerStallTimeout) {
    this.budget = budget;
    this.answers = new UntakenAnswers(connection, answerStallTimeout.toNanos());
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    if (!(msg instanceof ByteBuf buf)) {
      super.channelRead(ctx, msg);
      return;
    }
    readNanos = System.nanoTime();
    inbound.scan(buf, onClientBytes);
    if (splices.isEmpty()) {
      ctx.fireChannelRead(buf);
      return;
    }
    int from = buf.readerIndex();
    for (Splice splice : splices) {
      if (splice.at() > from) {
        ctx.fireChannelRead(buf.retainedSlice(from, splice.at() - from));
        from = splice.at();
      }
      ctx.fireChannelRead(splice.frames());
    }
    splices.clear();
    if (from < buf.writerIndex()) {
      ctx.fireChannelRead(buf.retainedSlice(from, buf.writerIndex() - from));
    }
    buf.release();
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
    if (msg instanceof ByteBuf buf) {
      outbound.scan(buf, onServerBytes);
    }
    super.write(ctx, msg, promise);
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    release();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    release();
    super.channelInactive(ctx);
  }

  /** The connection is gone: what its streams held is freed with it. */
  private void release() {
    if (ticker != null) {
      ticker.cancel(false);
      ticker = null;
    }
    if (held != 0) {
      budget.add(-held);
      held = 0;
    }
    streams.clear();
    answers.clear();
    frame = null;
  }

  private void clientFrame(int type, int flags, int stream, int length) {
    frame = null;
    if (type == Http2FrameScanner.HEADERS) {
      if (stream > lastClientStream) {
        lastClientStream = stream;
        streams.put(stream, new Progress());
      }
      if ((flags & Http2FrameScanner.END_STREAM) != 0) {
        finish(stream);
      }
    } else if (type == Http2FrameScanner.DATA) {
      Progress progress = streams.get(stream);
      if (progress != null) {
        frame = progress;
        frameStream = stream;
        frameFlags = flags;
        frameLength = length;
        frameData = (flags & Http2FrameScanner.PADDED) != 0 ? -1 : length;
      }
    } else if (type == Http2FrameScanner.RST_STREAM) {
      finish(stream);
      answers.forget(stream);
    }
  }

  /** Follows the gRPC messages in part of a DATA frame's payload. */
  private void clientData(ByteBuf buf, int index, int length) {
    Progress p = frame;
    long before = p.held;
    int i = index;
    int end = index + length;
    if (frameData < 0 && i < end) {
      frameData = frameLength - 1 - (buf.getByte(i++) & 0xff); // the pad length; padding follows the data
    }
    while (i < end && frameData > 0) {
      if (p.prefixRead < PREFIX_BYTES) {
        int b = buf.getByte(i++) & 0xff;
        frameData--;
        if (p.prefixRead == 0) {
          p.startedNanos = readNanos;
        } else {
          p.length = (p.length << 8) | b;
        }
        p.held++;
        if (++p.prefixRead == PREFIX_BYTES) {
          p.bodyRemaining = p.length;
          if (p.bodyRemaining == 0) {
            completed(p);
          }
        }
      } else {
        int take = (int) Math.min(Math.min(end - i, frameData), p.bodyRemaining);
        i += take;
        frameData -= take;
        p.bodyRemaining -= take;
        p.held += take;
        if (p.bodyRemaining == 0) {
          completed(p);
        }
      }
    }
    long grew = p.held - before;
    if (grew == 0) {
      return; // whole messages: nothing is held past this frame
    }
    held += grew;
    long total = budget.add(grew);
    if (grew < 0) {
      return;
    }
    startTicker();
    if (held > budget.limits().perConnectionBytes()) {
      cut(frameStream, IncompleteMessageBudget.Cut.CONNECTION_LIMIT, "RESOURCE_EXHAUSTED",
          "this connection's requests not yet received whole hold " + held + " bytes, over its limit of "
              + budget.limits().perConnectionBytes() + " (--grpc-max-incomplete-bytes-per-connection); "
              + new MessageSoFar(p));
    } else if (total > budget.limits().totalBytes()) {
      cut(frameStream, IncompleteMessageBudget.Cut.SERVER_LIMIT, "RESOURCE_EXHAUSTED",
          "requests not yet received whole hold " + total + " bytes on this server, over its limit of "
              + budget.limits().totalBytes() + " (--grpc-max-incomplete-bytes); " + new MessageSoFar(p)
              + "; try again later");
    }
  }

  /** How far a cut message had come, for the client. */
  private record MessageSoFar(long received, long length) {
    MessageSoFar(Progress p) {
      this(p.held, p.length + PREFIX_BYTES);
    }

    @Override
    public String toString() {
      return "the message was cut after " + received + " of its " + length + " bytes";
    }
  }

  private static void completed(Progress p) {
    p.prefixRead = 0;
    p.length = 0;
    p.bodyRemaining = 0;
    p.held = 0;
  }

  private void clientFrameEnd(int index) {
    if (frame != null && (frameFlags & Http2FrameScanner.END_STREAM) != 0) {
      finish(frameStream);
    }
    frame = null;
    if (!owedCancels.isEmpty()) {
      splices.add(new Splice(index, cancelFrames()));
    }
  }

  private void serverFrame(int type, int flags, int stream, int length) {
    boolean ends = type == Http2FrameScanner.RST_STREAM
        || ((type == Http2FrameScanner.HEADERS || type == Http2FrameScanner.DATA)
            && (flags & Http2FrameScanner.END_STREAM) != 0);
    answers.serverFrame(type, stream, length, ends);
    if (type == Http2FrameScanner.HEADERS && !ends) {
      startTicker(); // an answer begins: whether the client takes it is watched
    }
    Progress p = streams.get(stream);
    if (p == null) {
      return;
    }
    if (type == Http2FrameScanner.HEADERS) {
      p.serverSentHeaders = true;
    }
    if (ends) {
      finish(stream); // answered: grpc-java drops whatever else the client sends on it
    }
  }

  /** The stream is over (either side ended it): what its message held is no longer held. */
  private Progress finish(int stream) {
    Progress p = streams.remove(stream);
    if (p != null) {
      if (p.held != 0) {
        held -= p.held;
        budget.add(-p.held);
        p.held = 0;
      }
      if (p == frame) {
        frame = null;
      }
    }
    return p;
  }

  /**
   * Ends a stream whose message may not go on: trailers with the status to the client, and an owed
   * RST_STREAM for grpc-java, handed over at the next frame boundary.
   */
  private void cut(int stream, IncompleteMessageBudget.Cut why, String status, String message) {
    Progress p = streams.get(stream);
    boolean headersSent = p != null && p.serverSentHeaders;
    finish(stream);
    budget.cut(why);
    log.debug("cut stream {} from {}: {}", stream, ctx.channel().remoteAddress(), message);
    ctx.write(trailers(stream, headersSent, status, message));
    ByteBuf reset = ctx.alloc().buffer(13);
    rstStream(reset, stream, NO_ERROR);
    ctx.writeAndFlush(reset);
    owedCancels.add(stream);
  }

  private ByteBuf cancelFrames() {
    ByteBuf frames = ctx.alloc().buffer(13 * owedCancels.size());
    for (int stream : owedCancels) {
      rstStream(frames, stream, CANCEL);
    }
    owedCancels.clear();
    return frames;
  }

  private static void rstStream(ByteBuf buf, int stream, int code) {
    buf.writeMedium(4).writeByte(RST_STREAM_TYPE).writeByte(0).writeInt(stream).writeInt(code);
  }

  /**
   * A HEADERS frame ending the stream with a gRPC status. Every field is a never-indexed literal, so
   * the client's header table stays as grpc-java's own encoder left it.
   */
  private ByteBuf trailers(int stream, boolean headersSent, String status, String message) {
    if (trailerEncoder == null) {
      trailerEncoder = new DefaultHttp2HeadersEncoder(Http2HeadersEncoder.ALWAYS_SENSITIVE);
    }
    Http2Headers headers = new DefaultHttp2Headers();
    if (!headersSent) {
      headers.status("200").set("content-type", "application/grpc");
    }
    headers.set("grpc-status", Integer.toString(Status.Code.valueOf(status).value()))
        .set("grpc-message", percentEncoded(message));
    ByteBuf block = ctx.alloc().buffer();
    try {
      trailerEncoder.encodeHeaders(stream, headers, block);
      ByteBuf frame = ctx.alloc().buffer(9 + block.readableBytes());
      frame.writeMedium(block.readableBytes()).writeByte(HEADERS_TYPE).writeByte(END_STREAM_END_HEADERS)
          .writeInt(stream).writeBytes(block);
      return frame;
    } catch (Http2Exception e) {
      throw new IllegalStateException("could not encode trailers", e);
    } finally {
      block.release();
    }
  }

  /** grpc-message as the gRPC protocol spells it: printable ASCII except '%', the rest percent-encoded. */
  static String percentEncoded(String message) {
    StringBuilder out = new StringBuilder(message.length());
    for (byte b : message.getBytes(StandardCharsets.UTF_8)) {
      if (b >= 0x20 && b < 0x7f && b != '%') {
        out.append((char) b);
      } else {
        out.append('%').append(Character.toUpperCase(Character.forDigit((b >> 4) & 0xf, 16)))
            .append(Character.toUpperCase(Character.forDigit(b & 0xf, 16)));
      }
    }
    return out.toString();
  }

  private void startTicker() {
    if (ticker == null) {
      ticker = ctx.executor().scheduleAtFixedRate(this::tick, TICK_NANOS, TICK_NANOS, TimeUnit.NANOSECONDS);
    }
  }

  /** Once a second while messages are incomplete or calls open: cut those that stalled, either way. */
  private void tick() {
    long now = System.nanoTime();
    boolean incomplete = false;
    List<Integer> stalled = new ArrayList<>();
    for (IntObjectHashMap.PrimitiveEntry<Progress> e : streams.entries()) {
      Progress p = e.value();
      if (p.held > 0) {
        if (now - p.startedNanos > budget.stallNanos()) {
          stalled.add(e.key());
        } else {
          incomplete = true;
        }
      }
    }
    for (int stream : stalled) {
      Progress p = streams.get(stream);
      cut(stream, IncompleteMessageBudget.Cut.STALLED, "DEADLINE_EXCEEDED", "the message did not arrive whole within "
          + TimeUnit.NANOSECONDS.toMillis(budget.stallNanos()) + " ms of its first byte (--grpc-request-read-timeout-secs); "
          + new MessageSoFar(p));
    }
    boolean answering = watchAnswers(now);
    if (!owedCancels.isEmpty()) {
      if (inbound.atFrameBoundary()) {
        ctx.fireChannelRead(cancelFrames());
        ctx.fireChannelReadComplete();
      } else if (now - readNanos > TICK_NANOS) {
        // Stopped in the middle of a frame: nothing more will come on this connection to hand the reset over at.
        log.debug("closing the connection from {}: it stalled in the middle of a frame", ctx.channel().remoteAddress());
        ctx.close();
        return;
      }
    }
    if (!incomplete && !answering && owedCancels.isEmpty()) {
      ticker.cancel(false);
      ticker = null;
    }
  }

  /** Resets the streams whose answers stalled. Whether any call is still open (and so worth another look). */
  private boolean watchAnswers(long now) {
    for (int stream : answers.stalled(now)) {
      budget.cut(IncompleteMessageBudget.Cut.ANSWER_UNTAKEN);
      log.debug("reset stream {} to {}: the client took less than {} bytes of its answer in {} ms", stream,
          ctx.channel().remoteAddress(), UntakenAnswers.PROGRESS_BYTES,
          TimeUnit.NANOSECONDS.toMillis(answers.stallNanos()));
      ByteBuf reset = ctx.alloc().buffer(13);
      rstStream(reset, stream, CANCEL);
      ctx.writeAndFlush(reset);
      owedCancels.add(stream);
    }
    return answers.anyOpen();
  }
}
