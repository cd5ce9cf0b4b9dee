package io.junction.server.grpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnknownFieldSet;
import io.grpc.MethodDescriptor;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.ProtoUtils;
import io.junction.proto.inference.ModelInferRequest;
import java.io.InputStream;
import java.util.Optional;

/**
 * ModelInfer's request marshaller, which turns a message that does not parse (bad bytes, nesting
 * beyond protobuf's limit) into an empty request marked with the reason instead of throwing: grpc-java
 * answers a marshaller's exception with UNKNOWN "Application error processing RPC" and a stack trace in
 * the log, while a client's bad bytes deserve INVALID_ARGUMENT saying why, which the handlers answer
 * when they see the mark ({@link #parseFailure}).
 */
final class LenientRequestMarshaller implements MethodDescriptor.Marshaller<ModelInferRequest> {
  /** The largest field number: one the protocol will never use. */
  private static final int MARK = 536_870_911;

  private final MethodDescriptor.Marshaller<ModelInferRequest> strict =
      ProtoUtils.marshaller(ModelInferRequest.getDefaultInstance());

  @Override
  public InputStream stream(ModelInferRequest value) {
    return strict.stream(value);
  }

  @Override
  public ModelInferRequest parse(InputStream stream) {
    try {
      return strict.parse(stream);
    } catch (StatusRuntimeException e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      String why = cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
      return ModelInferRequest.newBuilder().setUnknownFields(UnknownFieldSet.newBuilder()
          .addField(MARK, UnknownFieldSet.Field.newBuilder().addLengthDelimited(ByteString.copyFromUtf8(why)).build())
          .build()).build();
    }
  }

  /** Why the request's bytes did not parse, if they did not. */
  static Optional<String> parseFailure(ModelInferRequest request) {
    UnknownFieldSet unknown = request.getUnknownFields();
    if (unknown.asMap().isEmpty() || !unknown.hasField(MARK)) {
      return Optional.empty();
    }
    return Optional.of("the ModelInfer request is not a valid message: "
        + unknown.getField(MARK).getLengthDelimitedList().get(0).toStringUtf8());
  }
}
