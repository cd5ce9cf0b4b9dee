package io.junction.server.grpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnknownFieldSet;
import com.google.protobuf.WireFormat;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.ProtoUtils;
import io.junction.proto.inference.ModelInferRequest;
import java.io.IOException;
import java.io.InputStream;
import java.util.Optional;

/**
 * ModelInfer's request marshaller. It refuses what a client should not be able to make the server do,
 * without throwing: grpc-java answers a marshaller's exception with UNKNOWN "Application error
 * processing RPC" and a logged stack trace, so a refused message becomes an empty request marked with
 * the status and reason, which the handlers answer ({@link #refusal}).
 *
 * <ul>
 *   <li>Bytes that do not parse (bad wire format, nesting beyond protobuf's limit): INVALID_ARGUMENT.
 *   <li>Typed contents ({@code InferTensorContents}) over {@code maxTypedContentsBytes} in all: packed
 *       varints grow up to eight-fold when parsed (a 38 MiB message of int64 zeros took 1.2 GB), so such a
 *       request is refused with RESOURCE_EXHAUSTED before it is parsed, pointing to raw contents, which
 *       cost their size. Below the cap a request's typed contents cost at most about ten times their size.
 * </ul>
 */
final class LenientRequestMarshaller implements MethodDescriptor.Marshaller<ModelInferRequest> {
  /** The largest field number: one the protocol will never use. */
  private static final int MARK = 536_870_911;
  /** ModelInferRequest.inputs (field 5) and InferInputTensor.contents (field 5), length-delimited: (5 << 3) | 2. */
  private static final int INPUTS_TAG = (5 << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED;
  private static final int CONTENTS_TAG = (5 << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED;

  /** Why a request was refused before it reached a handler. */
  record Refusal(Status.Code code, String message) {}

  private final MethodDescriptor.Marshaller<ModelInferRequest> strict =
      ProtoUtils.marshaller(ModelInferRequest.getDefaultInstance());
  private final int maxTypedContentsBytes;

  LenientRequestMarshaller(int maxTypedContentsBytes) {
    this.maxTypedContentsBytes = maxTypedContentsBytes;
  }

  @Override
  public InputStream stream(ModelInferRequest value) {
    return strict.stream(value);
  }

  @Override
  public ModelInferRequest parse(InputStream stream) {
    try {
      if (stream instanceof KnownLength && stream.available() > maxTypedContentsBytes) {
        return parseLarge(stream.readAllBytes());
      }
      return strict.parse(stream);
    } catch (StatusRuntimeException e) {
      return marked(Status.Code.INVALID_ARGUMENT, reason(e.getCause() != null ? e.getCause() : e));
    } catch (IOException e) {
      return marked(Status.Code.INVALID_ARGUMENT, reason(e));
    }
  }

  /**
   * A message large enough to carry too many typed contents: its typed contents are measured from the
   * wire first; then it is parsed with its bytes aliased, so raw contents are not copied again.
   */
  private ModelInferRequest parseLarge(byte[] bytes) throws IOException {
    long typed = typedContentsBytes(bytes);
    if (typed > maxTypedContentsBytes) {
      return marked(Status.Code.RESOURCE_EXHAUSTED, "the request carries " + typed + " bytes of typed contents "
          + "(InferTensorContents), more than the " + maxTypedContentsBytes + " this server parses: typed values grow "
          + "up to eight-fold when parsed; send large tensors as raw_input_contents");
    }
    CodedInputStream in = CodedInputStream.newInstance(bytes);
    in.enableAliasing(true);
    try {
      ModelInferRequest request = ModelInferRequest.parseFrom(in);
      in.checkLastTagWas(0);
      return request;
    } catch (InvalidProtocolBufferException e) {
      return marked(Status.Code.INVALID_ARGUMENT, reason(e));
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

  private static String reason(Throwable cause) {
    return "the ModelInfer request is not a valid message: "
        + (cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage());
  }

  private static ModelInferRequest marked(Status.Code code, String message) {
    return ModelInferRequest.newBuilder().setUnknownFields(UnknownFieldSet.newBuilder()
        .addField(MARK, UnknownFieldSet.Field.newBuilder().addVarint(code.value())
            .addLengthDelimited(ByteString.copyFromUtf8(message)).build())
        .build()).build();
  }

  /** Why the request was refused before it reached a handler, if it was. */
  static Optional<Refusal> refusal(ModelInferRequest request) {
    UnknownFieldSet unknown = request.getUnknownFields();
    if (unknown.asMap().isEmpty() || !unknown.hasField(MARK)) {
      return Optional.empty();
    }
    UnknownFieldSet.Field mark = unknown.getField(MARK);
    return Optional.of(new Refusal(Status.fromCodeValue(mark.getVarintList().get(0).intValue()).getCode(),
        mark.getLengthDelimitedList().get(0).toStringUtf8()));
  }
}
