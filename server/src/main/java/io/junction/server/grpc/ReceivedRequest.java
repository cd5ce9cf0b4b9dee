package io.junction.server.grpc;

import io.grpc.Status;
import io.junction.proto.inference.ModelInferRequest;
import io.junction.server.tensor.BufferLease;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.List;

/** A ModelInfer request as the transport handed it over: parsed, refused before parsing, or too large to parse there. */
sealed interface ReceivedRequest {
  /**
   * Parsed; ready for the pipeline.
   *
   * @param rawContents the request's raw input contents when they were kept out of the message, as views of
   *     pooled memory (protobuf-java copies every byte string to the heap); empty when the message holds them
   * @param memory the pooled buffer {@code rawContents} are views of, handed on with the call it becomes
   */
  record Parsed(ModelInferRequest request, List<ByteBuffer> rawContents, BufferLease memory) implements ReceivedRequest {
    public Parsed {
      rawContents = List.copyOf(rawContents);
      if (!rawContents.isEmpty() && request.getRawInputContentsCount() > 0) {
        throw new IllegalArgumentException("raw contents both in the message and beside it");
      }
    }

    Parsed(ModelInferRequest request) {
      this(request, List.of(), BufferLease.none());
    }

    /** How many raw input contents the request carries, wherever they are. */
    int rawCount() {
      return rawContents.isEmpty() ? request.getRawInputContentsCount() : rawContents.size();
    }

    /** Raw input contents {@code index}, read-only. */
    ByteBuffer raw(int index) {
      return rawContents.isEmpty() ? request.getRawInputContents(index).asReadOnlyByteBuffer()
          : rawContents.get(index).asReadOnlyBuffer();
    }
  }

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
      } catch (IOException e) {
        // nothing held by a stream that cannot close
      }
    }
  }
}
