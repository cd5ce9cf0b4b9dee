package io.junction.client;

import io.junction.proto.inference.InferParameter.Builder;

/** A value of a request parameter: a boolean, an integer or a string, as the protocol allows. */
public final class InferParameter {
  private final io.junction.proto.inference.InferParameter proto;

  private InferParameter(io.junction.proto.inference.InferParameter proto) {
    this.proto = proto;
  }

  public static InferParameter ofBool(boolean value) {
    return new InferParameter(builder().setBoolParam(value).build());
  }

  public static InferParameter ofInt(long value) {
    return new InferParameter(builder().setInt64Param(value).build());
  }

  public static InferParameter ofString(String value) {
    return new InferParameter(builder().setStringParam(value).build());
  }

  io.junction.proto.inference.InferParameter toProto() {
    return proto;
  }

  private static Builder builder() {
    return io.junction.proto.inference.InferParameter.newBuilder();
  }
}
