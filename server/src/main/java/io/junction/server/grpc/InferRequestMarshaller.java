package io.junction.server.grpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.UnsafeByteOperations;
import com.google.protobuf.WireFormat;
import io.grpc.Detachable;
import io.grpc.HasByteBuffer;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.ProtoUtils;
import io.junction.proto.inference.ModelInferRequest;
import io.junction.server.tensor.BufferLease;
import io.junction.server.tensor.BufferPool;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.util.List;

/**
 * ModelInfer's request marshaller (unary and stream). It refuses what a client should not be able to
 * make the server do, without throwing: grpc-java answers a marshaller's exception with UNKNOWN
 * "Application error processing RPC" and a logged stack trace.
 *
 * <ul>
 *   <li>Bytes that do not parse (bad wire format, nesting beyond protobuf's limit): INVALID_ARGUMENT.
 *   <li>Typed contents ({@code InferTensorContents}) over {@code maxTypedContentsBytes} in all: packed
 *       varints grow up to eight-fold when parsed (a 38 MiB message of int64 zeros took 1.2 GB), so such a
 *       request is refused with RESOURCE_EXHAUSTED before it is parsed, pointing to raw contents, which
 *       cost their size. Below the cap a request's typed contents cost at most about ten times their size.
 *   <li>Requests of {@code largeBytes} or more are not parsed here, on the threads every call shares, but
 *       handed on as {@link ReceivedRequest.Large} for the {@link LargeRequestLane}.
 * </ul>
 *
 * <p>Requests of {@code pooledBytes} or more (large ones included) are copied once, from the transport's
 * buffers into one pooled direct buffer; their raw contents stay there as views ({@link RawContentsSplitter}),
 * carried beside the message, and protobuf parses the rest (protobuf-java 4 copies any byte string it holds
 * to the heap, direct memory included). The backend reads a request that runs alone in place, so such a request's
 * tensors are copied once on their way in; grpc-java's own parser copies them twice (into a scratch array,
 * then each field out of it). The buffer goes back to the pool through the {@link BufferLease} that the
 * parsed request carries.
 */
final class InferRequestMarshaller implements MethodDescriptor.Marshaller<ReceivedRequest> {
  /** ModelInferRequest.inputs (field 5) and InferInputTensor.contents (field 5), length-delimited: (5 << 3) | 2. */
  private static final int INPUTS_TAG = (5 << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED;
  private static final int CONTENTS_TAG = (5 << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED;

  private final MethodDescriptor.Marshaller<ModelInferRequest> strict =
      ProtoUtils.marshaller(ModelInferRequest.getDefaultInstance());
  private final int maxTypedContentsBytes;
  private final int largeBytes;
  private final int pooledBytes;
  private final BufferPool pool;

  /**
   * @param pooledBytes the size from which requests are copied once into a buffer from {@code pool}
   */
  InferRequestMarshaller(int maxTypedContentsBytes, int largeBytes, int pooledBytes, BufferPool pool) {
    this.maxTypedContentsBytes = maxTypedContentsBytes;
    this.largeBytes = largeBytes;
    this.pooledBytes = pooledBytes;
    this.pool = pool;
  }

  /** Only the client side streams requests; the server never does. */
  @Override
  public InputStream stream(ReceivedRequest value) {
    if (value instanceof ReceivedRequest.Parsed parsed && parsed.rawContents().isEmpty()) {
      return strict.stream(parsed.request());
    }
    throw new IllegalArgumentException("only parsed requests that hold their raw contents can be sent");
  }

  @Override
  public ReceivedRequest parse(InputStream stream) {
    try {
      if (stream instanceof KnownLength && stream.available() >= largeBytes) {
        int size = stream.available();
        // Taking the transport's buffers over costs no copy; a stream that cannot give them up is read out.
        InputStream bytes = stream instanceof Detachable detachable ? detachable.detach()
            : new ByteArrayInputStream(stream.readAllBytes());
        return new ReceivedRequest.Large(bytes, size);
      }
      if (stream instanceof KnownLength && stream.available() >= pooledBytes) {
        return parsePooled(stream, stream.available());
      }
      if (stream instanceof KnownLength && stream.available() > maxTypedContentsBytes) {
        // could carry too many typed contents (a low cap)
        return parseMeasured(UnsafeByteOperations.unsafeWrap(stream.readNBytes(stream.available())), List.of(),
            BufferLease.none());
      }
      return new ReceivedRequest.Parsed(strict.parse(stream));
    } catch (StatusRuntimeException e) {
      return invalid(e.getCause() != null ? e.getCause() : e);
    } catch (IOException e) {
      return invalid(e);
    }
  }

  /** Parses a large request, on the lane's thread, and frees the transport's bytes. */
  ReceivedRequest parseLarge(ReceivedRequest.Large large) {
    try (large) {
      return parsePooled(large.bytes(), large.size());
    }
  }

  /** Copies the request's {@code size} bytes into a pooled buffer: its raw contents stay there, the rest is parsed. */
  private ReceivedRequest parsePooled(InputStream stream, int size) {
    ByteBuffer buffer;
    try {
      buffer = pool.acquire(size);
    } catch (OutOfMemoryError e) { // direct memory, which the JVM bounds like the heap
      return new ReceivedRequest.Refused(Status.Code.RESOURCE_EXHAUSTED, "the server has no memory for a request of "
          + size + " bytes now (" + e.getMessage() + "); try again later");
    }
    BufferLease lease = BufferLease.of(pool, buffer);
    try {
      copy(stream, buffer);
      buffer.flip();
      RawContentsSplitter.Split split = RawContentsSplitter.split(buffer);
      boolean views = !split.rawContents().isEmpty(); // else the rest is the whole request, on the heap
      ReceivedRequest parsed = parseMeasured(UnsafeByteOperations.unsafeWrap(split.rest()), split.rawContents(),
          views ? lease : BufferLease.none());
      if (!views || !(parsed instanceof ReceivedRequest.Parsed)) {
        lease.release();
      }
      return parsed;
    } catch (IOException e) {
      lease.release();
      return invalid(e);
    } catch (RuntimeException e) {
      lease.release();
      throw e;
    }
  }

  /** Copies what the stream holds into {@code target}: straight from the transport's buffers when it can. */
  private static void copy(InputStream stream, ByteBuffer target) throws IOException {
    if (stream instanceof HasByteBuffer direct && direct.byteBufferSupported()) {
      while (target.hasRemaining() && stream.available() > 0) {
        ByteBuffer piece = direct.getByteBuffer();
        int n = Math.min(piece.remaining(), target.remaining());
        target.put(piece.limit(piece.position() + n));
        stream.skip(n);
      }
    } else {
      var channel = Channels.newChannel(stream);
      while (target.hasRemaining() && channel.read(target) >= 0) {
        // reads until the buffer is full or the stream ends
      }
    }
    if (target.hasRemaining() || stream.available() > 0) {
      throw new IOException("the message was not the " + target.limit() + " bytes its length said");
    }
  }

  /**
   * Parses a request's bytes: its typed contents are measured from the wire first when it could carry
   * too many; then it is parsed with its bytes aliased, so raw contents are not copied again.
   *
   * @param rawContents raw contents taken out of {@code bytes} beforehand, which the parsed request carries beside it
   * @param memory the pooled buffer the raw contents lie in, which the parsed request then carries
   */
  private ReceivedRequest parseMeasured(ByteString bytes, List<ByteBuffer> rawContents, BufferLease memory) {
    try {
      if (bytes.size() > maxTypedContentsBytes) {
        long typed = typedContentsBytes(bytes);
        if (typed > maxTypedContentsBytes) {
          return new ReceivedRequest.Refused(Status.Code.RESOURCE_EXHAUSTED, "the request carries " + typed
              + " bytes of typed contents (InferTensorContents), more than the " + maxTypedContentsBytes
              + " this server parses: typed values grow up to eight-fold when parsed; send large tensors as raw_input_contents");
        }
      }
      CodedInputStream in = bytes.newCodedInput(); // over wrapped bytes: may alias them
      in.enableAliasing(true);
      ModelInferRequest request = ModelInferRequest.parseFrom(in);
      in.checkLastTagWas(0);
      return new ReceivedRequest.Parsed(request, rawContents, memory);
    } catch (IOException e) {
      return invalid(e);
    }
  }

  /** The bytes of every input's {@code contents}, read from the wire without parsing them. */
  private static long typedContentsBytes(ByteString bytes) throws IOException {
    CodedInputStream in = bytes.newCodedInput();
    long typed = 0;
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      if (tag != INPUTS_TAG) {
        in.skipField(tag);
        continue;
      }
      int limit = in.pushLimit(in.readRawVarint32());
      for (int inner = in.readTag(); inner != 0; inner = in.readTag()) {
        if (inner == CONTENTS_TAG) {
          int length = in.readRawVarint32();
          typed += length;
          in.skipRawBytes(length);
        } else {
          in.skipField(inner);
        }
      }
      in.popLimit(limit);
    }
    return typed;
  }

  private static ReceivedRequest.Refused invalid(Throwable cause) {
    return new ReceivedRequest.Refused(Status.Code.INVALID_ARGUMENT, "the ModelInfer request is not a valid message: "
        + (cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage()));
  }
}
