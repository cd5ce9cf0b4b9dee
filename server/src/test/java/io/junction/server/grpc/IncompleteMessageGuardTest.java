package io.junction.server.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import io.junction.server.config.InboundMemory;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http2.DefaultHttp2Connection;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.Test;

/**
 * The guard follows gRPC messages through a client's HTTP/2 bytes however they are cut: into frames of any size,
 * padded or not, streams interleaved, and those frames into reads at any byte. Generated at random (seeded), the
 * byte streams check what the end-to-end tests ({@code IncompleteMessagesTest}) cannot vary enough: whole messages
 * pass untouched and leave nothing counted; a message over the limit has its stream cut, with the reset for grpc-java
 * spliced in between two frames, and the connection's other streams untouched.
 */
class IncompleteMessageGuardTest {
  private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
  private static final int DATA = Http2FrameScanner.DATA;
  private static final int HEADERS = Http2FrameScanner.HEADERS;
  private static final int RST_STREAM = Http2FrameScanner.RST_STREAM;
  private static final int END_STREAM = Http2FrameScanner.END_STREAM;
  private static final int PADDED = Http2FrameScanner.PADDED;
  /** The one flag the scanner has no name for: the guard does not read header blocks. */
  private static final int END_HEADERS = 0x4;

  /** One frame as sent. */
  record Frame(int type, int flags, int stream, byte[] payload) {
    void writeTo(ByteArrayOutputStream out) {
      out.write(payload.length >>> 16);
      out.write(payload.length >>> 8);
      out.write(payload.length);
      out.write(type);
      out.write(flags);
      out.write(stream >>> 24);
      out.write(stream >>> 16);
      out.write(stream >>> 8);
      out.write(stream);
      out.write(payload, 0, payload.length);
    }
  }

  @Test
  void wholeMessagesPassUntouchedAndLeaveNothingHeld() {
    for (long seed = 1; seed <= 200; seed++) {
      Random random = new Random(seed);
      List<Frame> frames = new ArrayList<>();
      int streams = 1 + random.nextInt(6);
      List<List<Frame>> perStream = new ArrayList<>();
      for (int s = 0; s < streams; s++) {
        // Some streams stay open: only counting every message's bytes right leaves them holding nothing.
        perStream.add(streamFrames(random, 1 + 2 * s, messages(random, 1 + random.nextInt(4), 6000),
            random.nextBoolean()));
      }
      interleave(random, perStream, frames);
      List<IncompleteMessageBudget.Cut> cuts = new CopyOnWriteArrayList<>();
      IncompleteMessageBudget budget = budget(1 << 20, cuts);
      EmbeddedChannel channel = new EmbeddedChannel(guard(budget));
      byte[] sent = bytes(frames);
      List<Long> heldBetweenReads = feed(random, channel, sent, budget);

      assertThat(received(channel)).as("seed %d: the bytes grpc-java reads", seed).isEqualTo(sent);
      assertThat(cuts).as("seed %d", seed).isEmpty();
      assertThat(budget.held()).as("seed %d: held once every message came whole", seed).isZero();
      assertThat(heldBetweenReads).as("seed %d: never below nothing", seed).allMatch(h -> h >= 0);
      assertThat(written(channel)).as("seed %d: nothing written to the client", seed).isEmpty();
      channel.finishAndReleaseAll();
    }
  }

  @Test
  void aMessageOverTheLimitIsCutAtAFrameBoundaryAndTheOtherStreamsGoOn() {
    for (long seed = 1; seed <= 200; seed++) {
      Random random = new Random(seed);
      int limit = 20_000;
      // Stream 1 sends more of a message than the limit and stops; the others, opened beside it, then send
      // whole messages, which together never hold as much as the limit.
      byte[] started = Arrays.copyOf(message(random, 2 * limit), limit + 1 + random.nextInt(5000));
      List<Frame> oversized = streamFrames(random, 1, List.of(started), false);
      List<List<Frame>> perStream = new ArrayList<>();
      for (int s = 1; s < 1 + random.nextInt(4); s++) {
        perStream.add(streamFrames(random, 1 + 2 * s, messages(random, 1 + random.nextInt(3), 3000), true));
      }
      List<Frame> frames = new ArrayList<>();
      frames.add(oversized.get(0));
      frames.addAll(oversized.subList(1, oversized.size()));
      interleave(random, perStream, frames);
      List<IncompleteMessageBudget.Cut> cuts = new CopyOnWriteArrayList<>();
      IncompleteMessageBudget budget = budget(limit, cuts);
      EmbeddedChannel channel = new EmbeddedChannel(guard(budget));
      feed(random, channel, bytes(frames), budget);

      assertThat(cuts).as("seed %d", seed).containsExactly(IncompleteMessageBudget.Cut.CONNECTION_LIMIT);
      List<Frame> toGrpc = parse(received(channel));
      List<Frame> resets = toGrpc.stream().filter(f -> f.type() == RST_STREAM).toList();
      assertThat(resets).as("seed %d: one reset handed to grpc-java", seed).hasSize(1);
      assertThat(resets.get(0).stream()).isEqualTo(1);
      assertThat(resets.get(0).payload()).as("CANCEL").containsExactly(0, 0, 0, 8);
      List<Frame> others = toGrpc.stream().filter(f -> f.type() != RST_STREAM).toList();
      assertThat(others).as("seed %d: every frame the client sent, whole and in order", seed)
          .usingElementComparator((a, b) -> a.type() == b.type() && a.flags() == b.flags() && a.stream() == b.stream()
              && Arrays.equals(a.payload(), b.payload()) ? 0 : 1)
          .containsExactlyElementsOf(frames);
      List<Frame> toClient = parse(written(channel));
      assertThat(toClient).extracting(Frame::type, Frame::stream).as("seed %d: trailers, then a reset", seed)
          .containsExactly(Tuple.tuple(HEADERS, 1), Tuple.tuple(RST_STREAM, 1));
      assertThat(budget.held()).as("seed %d: the cut stream holds nothing; the others completed", seed).isZero();
      channel.finishAndReleaseAll();
    }
  }

  /** A guard over a connection grpc-java has no streams of: only what the client sends is followed. */
  private static IncompleteMessageGuard guard(IncompleteMessageBudget budget) {
    return new IncompleteMessageGuard(budget, new DefaultHttp2Connection(true), Duration.ofSeconds(30));
  }

  private static IncompleteMessageBudget budget(long perConnection, List<IncompleteMessageBudget.Cut> cuts) {
    return new IncompleteMessageBudget(new InboundMemory(perConnection, 1L << 30, 1 << 20), Duration.ofMinutes(1),
        cuts::add);
  }

  private static List<byte[]> messages(Random random, int count, int maxBytes) {
    List<byte[]> messages = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      messages.add(message(random, random.nextInt(maxBytes)));
    }
    return messages;
  }

  /** A gRPC message: uncompressed flag, 4-byte length, body. */
  private static byte[] message(Random random, int bodyBytes) {
    byte[] m = new byte[5 + bodyBytes];
    random.nextBytes(m);
    m[0] = 0;
    m[1] = (byte) (bodyBytes >>> 24);
    m[2] = (byte) (bodyBytes >>> 16);
    m[3] = (byte) (bodyBytes >>> 8);
    m[4] = (byte) bodyBytes;
    return m;
  }

  /** HEADERS, then the messages' bytes in DATA frames of random sizes (some padded, some empty). */
  private static List<Frame> streamFrames(Random random, int stream, List<byte[]> messages, boolean end) {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    messages.forEach(m -> all.write(m, 0, m.length));
    byte[] data = all.toByteArray();
    List<Frame> frames = new ArrayList<>();
    byte[] block = new byte[1 + random.nextInt(40)]; // the guard reads no header block
    random.nextBytes(block);
    frames.add(new Frame(HEADERS, END_HEADERS, stream, block));
    int at = 0;
    while (at < data.length || frames.size() == 1) {
      int n = Math.min(data.length - at, random.nextInt(8) == 0 ? 0 : 1 + random.nextInt(3000));
      boolean last = at + n == data.length;
      int flags = last && end ? END_STREAM : 0;
      byte[] payload;
      if (random.nextInt(3) == 0) {
        int pad = random.nextInt(40);
        payload = new byte[1 + n + pad];
        payload[0] = (byte) pad;
        System.arraycopy(data, at, payload, 1, n);
        flags |= PADDED;
      } else {
        payload = Arrays.copyOfRange(data, at, at + n);
      }
      frames.add(new Frame(DATA, flags, stream, payload));
      at += n;
      if (last) {
        break;
      }
    }
    return frames;
  }

  /** The streams' frames merged in a random order that keeps each stream's own. */
  private static void interleave(Random random, List<List<Frame>> perStream, List<Frame> into) {
    int[] next = new int[perStream.size()];
    int left = perStream.stream().mapToInt(List::size).sum();
    // Streams open in order of their ids, as HTTP/2 requires.
    for (int s = 0; s < perStream.size(); s++) {
      into.add(perStream.get(s).get(0));
      next[s] = 1;
      left--;
    }
    while (left > 0) {
      int s = random.nextInt(perStream.size());
      if (next[s] < perStream.get(s).size()) {
        into.add(perStream.get(s).get(next[s]++));
        left--;
      }
    }
  }

  private static byte[] bytes(List<Frame> frames) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(PREFACE, 0, PREFACE.length);
    frames.forEach(f -> f.writeTo(out));
    return out.toByteArray();
  }

  /** Reads of random sizes, down to one byte; the budget after each. */
  private static List<Long> feed(Random random, EmbeddedChannel channel, byte[] bytes, IncompleteMessageBudget budget) {
    List<Long> held = new ArrayList<>();
    int at = 0;
    while (at < bytes.length) {
      int n = Math.min(bytes.length - at, random.nextInt(4) == 0 ? 1 + random.nextInt(9) : 1 + random.nextInt(7000));
      channel.writeInbound(Unpooled.wrappedBuffer(bytes, at, n));
      held.add(budget.held());
      at += n;
    }
    return held;
  }

  private static byte[] received(EmbeddedChannel channel) {
    return drain(channel, true);
  }

  private static byte[] written(EmbeddedChannel channel) {
    return drain(channel, false);
  }

  private static byte[] drain(EmbeddedChannel channel, boolean inbound) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (ByteBuf b; (b = inbound ? channel.readInbound() : channel.readOutbound()) != null; ) {
      byte[] chunk = new byte[b.readableBytes()];
      b.readBytes(chunk);
      b.release();
      out.write(chunk, 0, chunk.length);
    }
    return out.toByteArray();
  }

  /** The frames in bytes read by grpc-java (after the preface) or written to the client. */
  private static List<Frame> parse(byte[] bytes) {
    int at = bytes.length >= PREFACE.length
        && Arrays.equals(bytes, 0, PREFACE.length, PREFACE, 0, PREFACE.length) ? PREFACE.length : 0;
    List<Frame> frames = new ArrayList<>();
    while (at < bytes.length) {
      assertThat(bytes.length - at).as("a whole frame header at byte %d", at).isGreaterThanOrEqualTo(9);
      int length = ((bytes[at] & 0xff) << 16) | ((bytes[at + 1] & 0xff) << 8) | (bytes[at + 2] & 0xff);
      int stream = ((bytes[at + 5] & 0x7f) << 24) | ((bytes[at + 6] & 0xff) << 16) | ((bytes[at + 7] & 0xff) << 8)
          | (bytes[at + 8] & 0xff);
      assertThat(bytes.length - at - 9).as("a whole frame at byte %d", at).isGreaterThanOrEqualTo(length);
      frames.add(new Frame(bytes[at + 3] & 0xff, bytes[at + 4] & 0xff, stream,
          Arrays.copyOfRange(bytes, at + 9, at + 9 + length)));
      at += 9 + length;
    }
    return frames;
  }
}
