package io.junction.server.config;

/**
 * How much memory requests may hold while they arrive.
 *
 * @param perConnectionBytes bytes that messages not yet received whole may hold on one connection; the
 *     stream whose bytes pass it is ended with RESOURCE_EXHAUSTED. At least one message of the largest
 *     size, so that any single request can come.
 * @param totalBytes the same over all connections of the server
 * @param largeMessageBytes ModelInfer requests of at least this many bytes are parsed on their own
 *     threads, so that parsing them never holds up small calls
 */
public record InboundMemory(long perConnectionBytes, long totalBytes, int largeMessageBytes) {
  public static final int DEFAULT_LARGE_MESSAGE_BYTES = 1024 * 1024;

  public InboundMemory {
    if (perConnectionBytes <= 0 || totalBytes <= 0 || largeMessageBytes <= 0) {
      throw new IllegalArgumentException("inbound memory limits must be positive, got " + perConnectionBytes + ", "
          + totalBytes + ", " + largeMessageBytes);
    }
    if (totalBytes < perConnectionBytes) {
      throw new IllegalArgumentException("the server's limit for incomplete messages (" + totalBytes
          + " bytes) is below one connection's (" + perConnectionBytes + ")");
    }
  }

  /**
   * Two of the largest messages per connection; over all connections, a quarter of the heap's limit (the
   * JVM sizes its direct memory, where the transport keeps these bytes, like the heap), and never less
   * than one connection's.
   */
  public static InboundMemory defaults(int maxMessageBytes) {
    long perConnection = 2L * maxMessageBytes;
    return new InboundMemory(perConnection, Math.max(perConnection, Runtime.getRuntime().maxMemory() / 4),
        DEFAULT_LARGE_MESSAGE_BYTES);
  }

  public InboundMemory withLargeMessageBytes(int bytes) {
    return new InboundMemory(perConnectionBytes, totalBytes, bytes);
  }
}
