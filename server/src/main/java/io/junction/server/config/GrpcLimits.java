package io.junction.server.config;

import java.time.Duration;
import java.util.Objects;

/**
 * Explicit limits for the gRPC endpoint, replacing grpc-java's trusted-network defaults (unbounded
 * calls per connection, no connection age, ...). Every value is checked when built.
 *
 * @param maxInboundMessageBytes largest request message; larger ones get RESOURCE_EXHAUSTED
 * @param maxInboundMetadataBytes largest header block of a call
 * @param maxConcurrentCallsPerConnection streams one connection may hold open at once
 * @param keepAliveTime the server pings an idle connection this often
 * @param keepAliveTimeout and closes it when the ping is not answered in this time
 * @param permitKeepAliveTime clients pinging more often than this are disconnected (GOAWAY)
 * @param permitKeepAliveWithoutCalls whether clients may ping while they have no call open
 * @param maxConnectionIdle a connection without calls for this long is closed
 * @param maxConnectionAge connections are asked to reconnect after this long, which spreads load over
 *     replicas that started later
 * @param maxConnectionAgeGrace calls still open at that age get this long to finish
 * @param prematureResetMinimum premature resets (a client resetting a stream the server is still working
 *     on) per window before a connection is judged (HTTP/2 rapid-reset defence)
 * @param prematureResetRatio premature resets per stream opened in the window at or above which the
 *     connection is sent GOAWAY and closed; clients that cancel some of their calls stay below it
 * @param prematureResetWindow the window both are counted over
 * @param requestReadTimeout how long a unary call may take to deliver its whole request before it is
 *     answered DEADLINE_EXCEEDED and its stream reset (a stalled sender holds what it sent in memory)
 * @param answerStallTimeout how long an answer may wait on a client's flow-control window with less than a frame
 *     (16 KiB) of it going out before its stream is reset (CANCELLED): until it is taken, the server holds it in memory
 * @param maxTypedContentsBytes typed contents (InferTensorContents) a request may carry in all; more is
 *     refused before parsing with RESOURCE_EXHAUSTED (packed values grow up to eight-fold when parsed)
 * @param inboundMemory what requests may hold while they arrive, and which are parsed apart as large
 * @param maxConnections connections open at once; one more is closed as it is accepted (keep it below the
 *     process's open-file limit, which every connection takes one of)
 */
public record GrpcLimits(int maxInboundMessageBytes, int maxInboundMetadataBytes, int maxConcurrentCallsPerConnection,
    Duration keepAliveTime, Duration keepAliveTimeout, Duration permitKeepAliveTime,
    boolean permitKeepAliveWithoutCalls, Duration maxConnectionIdle, Duration maxConnectionAge,
    Duration maxConnectionAgeGrace, int prematureResetMinimum, double prematureResetRatio,
    Duration prematureResetWindow, int maxTypedContentsBytes, Duration requestReadTimeout, Duration answerStallTimeout,
    InboundMemory inboundMemory, int maxConnections) {

  public static final int DEFAULT_MAX_INBOUND_MESSAGE_BYTES = 64 * 1024 * 1024;
  public static final int DEFAULT_MAX_INBOUND_METADATA_BYTES = 16 * 1024;
  public static final int DEFAULT_MAX_CONCURRENT_CALLS_PER_CONNECTION = 1024;
  public static final int DEFAULT_MAX_TYPED_CONTENTS_BYTES = 4 * 1024 * 1024;
  public static final int DEFAULT_MAX_CONNECTIONS = 10_000;

  public static final GrpcLimits DEFAULTS = new GrpcLimits(
      DEFAULT_MAX_INBOUND_MESSAGE_BYTES,
      DEFAULT_MAX_INBOUND_METADATA_BYTES,
      DEFAULT_MAX_CONCURRENT_CALLS_PER_CONNECTION,
      Duration.ofMinutes(1),
      Duration.ofSeconds(20),
      Duration.ofSeconds(10),
      true,
      Duration.ofMinutes(30),
      Duration.ofMinutes(30),
      Duration.ofMinutes(5),
      500,
      0.8,
      Duration.ofSeconds(10),
      DEFAULT_MAX_TYPED_CONTENTS_BYTES,
      Duration.ofSeconds(30),
      Duration.ofSeconds(30),
      InboundMemory.defaults(DEFAULT_MAX_INBOUND_MESSAGE_BYTES),
      DEFAULT_MAX_CONNECTIONS);

  public GrpcLimits {
    positive("maxInboundMessageBytes", maxInboundMessageBytes);
    positive("maxInboundMetadataBytes", maxInboundMetadataBytes);
    positive("maxConcurrentCallsPerConnection", maxConcurrentCallsPerConnection);
    positive("maxConnections", maxConnections);
    positive("prematureResetMinimum", prematureResetMinimum);
    if (!(prematureResetRatio > 0 && prematureResetRatio <= 1)) {
      throw new IllegalArgumentException("prematureResetRatio must be in (0, 1], got " + prematureResetRatio);
    }
    positive("keepAliveTime", keepAliveTime);
    positive("keepAliveTimeout", keepAliveTimeout);
    positive("permitKeepAliveTime", permitKeepAliveTime);
    positive("maxConnectionIdle", maxConnectionIdle);
    positive("maxConnectionAge", maxConnectionAge);
    positive("maxConnectionAgeGrace", maxConnectionAgeGrace);
    positive("prematureResetWindow", prematureResetWindow);
    positive("maxTypedContentsBytes", maxTypedContentsBytes);
    positive("requestReadTimeout", requestReadTimeout);
    positive("answerStallTimeout", answerStallTimeout);
    Objects.requireNonNull(inboundMemory, "inboundMemory");
    if (inboundMemory.perConnectionBytes() < maxInboundMessageBytes) {
      throw new IllegalArgumentException("a connection may hold " + inboundMemory.perConnectionBytes()
          + " bytes of incomplete messages, less than one message of the largest size (" + maxInboundMessageBytes + ")");
    }
  }

  /** With a largest message; the incomplete-message limits grow with it where they would no longer hold one. */
  public GrpcLimits withMaxInboundMessageBytes(int bytes) {
    InboundMemory memory = inboundMemory.perConnectionBytes() >= bytes ? inboundMemory
        : InboundMemory.defaults(bytes).withLargeMessageBytes(inboundMemory.largeMessageBytes());
    return new GrpcLimits(bytes, maxInboundMetadataBytes, maxConcurrentCallsPerConnection, keepAliveTime,
        keepAliveTimeout, permitKeepAliveTime, permitKeepAliveWithoutCalls, maxConnectionIdle, maxConnectionAge,
        maxConnectionAgeGrace, prematureResetMinimum, prematureResetRatio, prematureResetWindow, maxTypedContentsBytes, requestReadTimeout,
        answerStallTimeout, memory, maxConnections);
  }

  public GrpcLimits withMaxTypedContentsBytes(int bytes) {
    return new GrpcLimits(maxInboundMessageBytes, maxInboundMetadataBytes, maxConcurrentCallsPerConnection, keepAliveTime,
        keepAliveTimeout, permitKeepAliveTime, permitKeepAliveWithoutCalls, maxConnectionIdle, maxConnectionAge,
        maxConnectionAgeGrace, prematureResetMinimum, prematureResetRatio, prematureResetWindow, bytes, requestReadTimeout,
        answerStallTimeout, inboundMemory, maxConnections);
  }

  public GrpcLimits withRequestReadTimeout(Duration timeout) {
    return new GrpcLimits(maxInboundMessageBytes, maxInboundMetadataBytes, maxConcurrentCallsPerConnection, keepAliveTime,
        keepAliveTimeout, permitKeepAliveTime, permitKeepAliveWithoutCalls, maxConnectionIdle, maxConnectionAge,
        maxConnectionAgeGrace, prematureResetMinimum, prematureResetRatio, prematureResetWindow, maxTypedContentsBytes,
        timeout, answerStallTimeout, inboundMemory, maxConnections);
  }

  public GrpcLimits withAnswerStallTimeout(Duration timeout) {
    return new GrpcLimits(maxInboundMessageBytes, maxInboundMetadataBytes, maxConcurrentCallsPerConnection, keepAliveTime,
        keepAliveTimeout, permitKeepAliveTime, permitKeepAliveWithoutCalls, maxConnectionIdle, maxConnectionAge,
        maxConnectionAgeGrace, prematureResetMinimum, prematureResetRatio, prematureResetWindow, maxTypedContentsBytes,
        requestReadTimeout, timeout, inboundMemory, maxConnections);
  }

  public GrpcLimits withMaxConnections(int connections) {
    return new GrpcLimits(maxInboundMessageBytes, maxInboundMetadataBytes, maxConcurrentCallsPerConnection, keepAliveTime,
        keepAliveTimeout, permitKeepAliveTime, permitKeepAliveWithoutCalls, maxConnectionIdle, maxConnectionAge,
        maxConnectionAgeGrace, prematureResetMinimum, prematureResetRatio, prematureResetWindow, maxTypedContentsBytes,
        requestReadTimeout, answerStallTimeout, inboundMemory, connections);
  }

  public GrpcLimits withMaxConnectionAge(Duration age, Duration grace) {
    return new GrpcLimits(maxInboundMessageBytes, maxInboundMetadataBytes, maxConcurrentCallsPerConnection, keepAliveTime,
        keepAliveTimeout, permitKeepAliveTime, permitKeepAliveWithoutCalls, maxConnectionIdle, age, grace,
        prematureResetMinimum, prematureResetRatio, prematureResetWindow, maxTypedContentsBytes, requestReadTimeout,
        answerStallTimeout, inboundMemory, maxConnections);
  }

  public GrpcLimits withInboundMemory(InboundMemory memory) {
    return new GrpcLimits(maxInboundMessageBytes, maxInboundMetadataBytes, maxConcurrentCallsPerConnection, keepAliveTime,
        keepAliveTimeout, permitKeepAliveTime, permitKeepAliveWithoutCalls, maxConnectionIdle, maxConnectionAge,
        maxConnectionAgeGrace, prematureResetMinimum, prematureResetRatio, prematureResetWindow, maxTypedContentsBytes,
        requestReadTimeout, answerStallTimeout, memory, maxConnections);
  }

  private static void positive(String name, int value) {
    if (value <= 0) {
      throw new IllegalArgumentException(name + " must be positive, got " + value);
    }
  }

  private static void positive(String name, Duration value) {
    Objects.requireNonNull(value, name);
    if (value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(name + " must be positive, got " + value);
    }
  }
}
