package io.junction.server.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnknownFieldSet;
import com.google.protobuf.UnsafeByteOperations;
import io.junction.proto.inference.InferParameter;
import io.junction.proto.inference.ModelInferRequest;
import java.nio.ByteBuffer;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class RawContentsSplitterTest {
  @Test
  void theRestParsesToTheRequestWithoutItsRawContentsWhichStayViewsOfTheMessage() throws Exception {
    ModelInferRequest request = ModelInferRequest.newBuilder().setModelName("m").setModelVersion("2").setId("r")
        .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("a").setDatatype("FP32").addShape(2))
        .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("b").setDatatype("BYTES").addShape(1))
        .addRawInputContents(ByteString.copyFrom(new byte[] {1, 2, 3, 4, 5, 6, 7, 8}))
        .addRawInputContents(ByteString.copyFromUtf8("\u0003\u0000\u0000\u0000abc"))
        .putParameters("priority", InferParameter.newBuilder().setInt64Param(1).build())
        .addOutputs(ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName("y"))
        .setUnknownFields(UnknownFieldSet.newBuilder()
            .addField(99, UnknownFieldSet.Field.newBuilder().addFixed32(7).addFixed64(9).addVarint(300).build()).build())
        .build();
    ByteBuffer wire = direct(request.toByteArray());

    RawContentsSplitter.Split split = RawContentsSplitter.split(wire);

    assertThat(ModelInferRequest.parseFrom(split.rest())).isEqualTo(request.toBuilder().clearRawInputContents().build());
    assertThat(split.rawContents()).hasSize(2).allSatisfy(raw -> assertThat(raw.isDirect()).isTrue());
    assertThat(split.rawContents().stream().map(UnsafeByteOperations::unsafeWrap))
        .containsExactlyElementsOf(request.getRawInputContentsList());
    for (int i = 0; i < wire.limit(); i++) {
      wire.put(i, (byte) 0x55);
    }
    assertThat(split.rawContents().get(0).get(3)).as("a view of the message's bytes, not a copy").isEqualTo((byte) 0x55);
  }

  @Test
  void fieldsInAnyOrderAroundTheRawContentsAreKept() throws Exception {
    ByteString raw = ByteString.copyFrom(new byte[100_000]);
    ModelInferRequest tail = ModelInferRequest.newBuilder().setId("after").build();
    byte[] wire = ModelInferRequest.newBuilder().addRawInputContents(raw).build().toByteString()
        .concat(tail.toByteString()).toByteArray();
    RawContentsSplitter.Split split = RawContentsSplitter.split(direct(wire));
    assertThat(ModelInferRequest.parseFrom(split.rest()).getId()).isEqualTo("after");
    assertThat(split.rawContents()).singleElement().satisfies(b -> assertThat(b.remaining()).isEqualTo(100_000));
  }

  @Test
  void truncatedOrMalformedMessagesAreRefused() {
    byte[] wire = ModelInferRequest.newBuilder().setModelName("m").addRawInputContents(ByteString.copyFrom(new byte[64]))
        .build().toByteArray();
    assertThatThrownBy(() -> RawContentsSplitter.split(direct(Arrays.copyOf(wire, wire.length - 1))))
        .isInstanceOf(InvalidProtocolBufferException.class).hasMessageContaining("claims 64 bytes");
    assertThatThrownBy(() -> RawContentsSplitter.split(direct(new byte[] {(byte) 0x80, (byte) 0x80})))
        .isInstanceOf(InvalidProtocolBufferException.class).hasMessageContaining("varint");
    assertThatThrownBy(() -> RawContentsSplitter.split(direct(new byte[] {(7 << 3) | 3})))
        .isInstanceOf(InvalidProtocolBufferException.class).hasMessageContaining("wire type 3");
    assertThatThrownBy(() -> RawContentsSplitter.split(direct(new byte[] {0, 0})))
        .isInstanceOf(InvalidProtocolBufferException.class).hasMessageContaining("field number 0");
  }

  private static ByteBuffer direct(byte[] bytes) {
    return ByteBuffer.allocateDirect(bytes.length).put(bytes).flip();
  }
}
