package io.junction.server.grpc;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import io.grpc.Detachable;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.ProtoUtils;
import io.junction.proto.inference.ModelInferRequest;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;

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
 */
final class InferRequestMarshaller implements MethodDescriptor.Marshaller<ReceivedRequest> {
  /** ModelInferRequest.inputs (field 5) and InferInputTensor.contents (field 5), length-delimited: (5 << 3) | 2. */
  private static final int INPUTS_TAG = (5 << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED;
  private static final int CONTENTS_TAG = (5 << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED;

  private final MethodDescriptor.Marshaller<ModelInferRequest> strict =
      ProtoUtils.marshaller(ModelInferRequest.getDefaultInstance());
  private final int maxTypedContentsBytes;
  private final int largeBytes;

  InferRequestMarshaller(int maxTypedContentsBytes, int largeBytes) {
    this.maxTypedContentsBytes = maxTypedContentsBytes;
    this.largeBytes = largeBytes;
  }

  /** Only the client side streams requests; the server never does. */
  @Override
  public InputStream stream(ReceivedRequest value) {
    if (value instanceof ReceivedRequest.Parsed parsed) {
      return strict.stream(parsed.request());
    }
    throw new IllegalArgumentException("only parsed requests can be sent");
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
      if (stream instanceof KnownLength && stream.available() > maxTypedContentsBytes) {
        return parseMeasured(stream.readAllBytes()); // could carry too many typed contents (a low cap)
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
      return parseMeasured(large.bytes().readAllBytes());
    } catch (IOException e) {
      return invalid(e);
    }
  }

  /**
   * Parses a request's bytes: its typed contents are measured from the wire first when it could carry
   * too many; then it is parsed with its bytes aliased, so raw contents are not copied again.
   */
  private ReceivedRequest parseMeasured(byte[] bytes) {
    try {
      if (bytes.length > maxTypedContentsBytes) {
        long typed = typedContentsBytes(bytes);
        if (typed > maxTypedContentsBytes) {
          return new ReceivedRequest.Refused(Status.Code.RESOURCE_EXHAUSTED, "the request carries " + typed
              + " bytes of typed contents (InferTensorContents), more than the " + maxTypedContentsBytes
              + " this server parses: typed values grow up to eight-fold when parsed; send large tensors as raw_input_contents");
        }
      }
      CodedInputStream in = CodedInputStream.newInstance(bytes);
      in.enableAliasing(true);
      ModelInferRequest request = ModelInferRequest.parseFrom(in);
      in.checkLastTagWas(0);
      return new ReceivedRequest.Parsed(request);
    } catch (IOException e) {
      return invalid(e);
    }
  }

  /** The bytes of every input's {@code contents}, read from the wire without parsing them. */
  private static long typedContentsBytes(byte[] bytes) throws IOException {
    CodedInputStream in = CodedInputStream.newInstance(bytes);
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
