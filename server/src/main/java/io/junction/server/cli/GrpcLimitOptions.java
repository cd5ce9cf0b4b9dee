package io.junction.server.cli;

import io.junction.server.config.GrpcLimits;
import io.junction.server.config.InboundMemory;
import java.time.Duration;
import picocli.CommandLine.Option;

/** The gRPC endpoint's limits that an operator sizes: messages, slow senders, connection age. */
public final class GrpcLimitOptions {
  @Option(names = "--grpc-max-message-size", defaultValue = "" + GrpcLimits.DEFAULT_MAX_INBOUND_MESSAGE_BYTES,
      paramLabel = "BYTES", description = "Largest request message (default: ${DEFAULT-VALUE}).")
  int maxMessageBytes;

  @Option(names = "--grpc-request-read-timeout-secs", defaultValue = "30", paramLabel = "N",
      description = "A ModelInfer call must deliver its whole request within N seconds of its start, or it is answered "
          + "DEADLINE_EXCEEDED and what it sent is freed (stalled senders) (default: ${DEFAULT-VALUE}).")
  long requestReadTimeoutSeconds;

  @Option(names = "--grpc-answer-stall-timeout-secs", defaultValue = "30", paramLabel = "N",
      description = "An answer waiting on a client's flow-control window of which less than 16 KiB went out in N "
          + "seconds (a client that stopped reading, or drips window out) has its stream reset (CANCELLED) and is "
          + "freed; until then the server holds it (default: ${DEFAULT-VALUE}).")
  long answerStallTimeoutSeconds;

  @Option(names = "--grpc-max-typed-contents-bytes", defaultValue = "" + GrpcLimits.DEFAULT_MAX_TYPED_CONTENTS_BYTES,
      paramLabel = "BYTES", description = "Typed contents (InferTensorContents) a request may carry in all; more is "
          + "refused with RESOURCE_EXHAUSTED before parsing, since packed values grow up to eight-fold "
          + "(default: ${DEFAULT-VALUE}).")
  int maxTypedContentsBytes;

  @Option(names = "--grpc-max-incomplete-bytes-per-connection", paramLabel = "BYTES",
      description = "Bytes that requests not yet received whole may hold on one connection; the stream that passes it "
          + "is ended RESOURCE_EXHAUSTED (default: twice --grpc-max-message-size).")
  Long maxIncompleteBytesPerConnection;

  @Option(names = "--grpc-max-incomplete-bytes", paramLabel = "BYTES",
      description = "The same over all connections (default: a quarter of the heap's limit, at least one connection's).")
  Long maxIncompleteBytes;

  @Option(names = "--grpc-large-request-bytes", defaultValue = "" + InboundMemory.DEFAULT_LARGE_MESSAGE_BYTES,
      paramLabel = "BYTES", description = "ModelInfer requests of at least this size are parsed on their own threads, "
          + "apart from small calls (default: ${DEFAULT-VALUE}).")
  int largeRequestBytes;

  @Option(names = "--grpc-max-connections", defaultValue = "" + GrpcLimits.DEFAULT_MAX_CONNECTIONS, paramLabel = "N",
      description = "Connections a gRPC port keeps open at once; one more is closed as it is accepted. Keep it below "
          + "the open-file limit (ulimit -n) (default: ${DEFAULT-VALUE}).")
  int maxConnections;

  @Option(names = "--grpc-max-connection-age", defaultValue = "30m", paramLabel = "DURATION",
      converter = DurationConverter.class,
      description = "Connections are asked (GOAWAY) to reconnect after this long, so clients re-resolve and spread "
          + "over replicas that started later, e.g. after a scale-out (default: ${DEFAULT-VALUE}).")
  Duration maxConnectionAge;

  @Option(names = "--grpc-max-connection-age-grace", defaultValue = "5m", paramLabel = "DURATION",
      converter = DurationConverter.class,
      description = "Calls still open on a connection at that age get this long to finish (default: ${DEFAULT-VALUE}).")
  Duration maxConnectionAgeGrace;

  /** Junction's defaults with these options applied; checked, with the options named. */
  public GrpcLimits limits() {
    Positive.number("--grpc-max-message-size", maxMessageBytes);
    Positive.number("--grpc-max-typed-contents-bytes", maxTypedContentsBytes);
    Positive.number("--grpc-request-read-timeout-secs", requestReadTimeoutSeconds);
    Positive.number("--grpc-answer-stall-timeout-secs", answerStallTimeoutSeconds);
    Positive.number("--grpc-max-connections", maxConnections);
    return GrpcLimits.DEFAULTS.withMaxInboundMessageBytes(maxMessageBytes)
        .withMaxTypedContentsBytes(maxTypedContentsBytes)
        .withRequestReadTimeout(Duration.ofSeconds(requestReadTimeoutSeconds))
        .withAnswerStallTimeout(Duration.ofSeconds(answerStallTimeoutSeconds))
        .withMaxConnections(maxConnections)
        .withMaxConnectionAge(Positive.duration("--grpc-max-connection-age", maxConnectionAge),
            Positive.duration("--grpc-max-connection-age-grace", maxConnectionAgeGrace))
        .withInboundMemory(inboundMemory());
  }

  private InboundMemory inboundMemory() {
    InboundMemory defaults = InboundMemory.defaults(maxMessageBytes);
    long perConnection = maxIncompleteBytesPerConnection != null
        ? Positive.number("--grpc-max-incomplete-bytes-per-connection", maxIncompleteBytesPerConnection)
        : defaults.perConnectionBytes();
    long total = maxIncompleteBytes != null ? Positive.number("--grpc-max-incomplete-bytes", maxIncompleteBytes)
        : Math.max(perConnection, defaults.totalBytes());
    Positive.number("--grpc-large-request-bytes", largeRequestBytes);
    if (perConnection < maxMessageBytes) {
      throw new IllegalArgumentException("--grpc-max-incomplete-bytes-per-connection (" + perConnection
          + ") must hold one message of --grpc-max-message-size (" + maxMessageBytes + ")");
    }
    if (total < perConnection) {
      throw new IllegalArgumentException("--grpc-max-incomplete-bytes (" + total
          + ") must be at least one connection's, --grpc-max-incomplete-bytes-per-connection (" + perConnection + ")");
    }
    return new InboundMemory(perConnection, total, largeRequestBytes);
  }
}
