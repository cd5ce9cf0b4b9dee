package io.junction.server.grpc;

import io.grpc.Status;
import io.junction.proto.inference.ModelInferRequest;
import java.io.InputStream;

/** A ModelInfer request as the transport handed it over: parsed, refused before parsing, or too large to parse there. */
sealed interface ReceivedRequest {
  /** Parsed; ready for the pipeline. */
  record Parsed(ModelInferRequest request) implements ReceivedRequest {}

  /** Not parsed, and why: answered with this status, never as a server fault. */
  record Refused(Status.Code code, String message) implements ReceivedRequest {}

  /**
   * Large enough that parsing it could hold up small calls on the transport's threads: its bytes, taken
   * over from the transport without a copy, to be parsed by the {@link LargeRequestLane}. Whoever ends
   * up with it closes it, which frees the bytes.
   */
  record Large(InputStream bytes, int size) implements ReceivedRequest, AutoCloseable {
    @Override
    public void close() {
      try {
        bytes.close();
      } catch (java.io.IOException e) {
        // nothing held by a stream that cannot close
      }
    }
  }
}
