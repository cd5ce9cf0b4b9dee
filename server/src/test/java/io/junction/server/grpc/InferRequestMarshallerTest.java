package io.junction.server.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnsafeByteOperations;
import com.google.protobuf.WireFormat;
import io.grpc.KnownLength;
import io.grpc.Status;
import io.junction.proto.inference.InferParameter;
import io.junction.proto.inference.InferTensorContents;
import io.junction.proto.inference.ModelInferRequest;
import io.junction.proto.inference.ModelInferRequest.InferInputTensor;
import io.junction.proto.inference.ModelInferRequest.InferRequestedOutputTensor;
import io.junction.server.tensor.BufferPool;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The marshaller that copies large requests once and keeps their raw contents out of protobuf's parse reads every
 * message as protobuf itself does. Seeded requests with every field, unknown fields among them and the raw contents
 * anywhere between the others, then the same bytes damaged (bytes flipped, cut, inserted, ranges doubled): wherever
 * protobuf parses the bytes, the marshaller gives the same request; wherever it refuses them, the marshaller answers
 * INVALID_ARGUMENT, never an exception (which grpc-java would answer UNKNOWN); and every pooled buffer goes back.
 * {@code -Djunction.fuzz.seed=N -Djunction.fuzz.requests=M} searches further, as for {@code FuzzedRequestsTest}.
 */
class InferRequestMarshallerTest {
  private static final long SEED = Long.getLong("junction.fuzz.seed", 20261203L);
  private static final int CASES = Integer.getInteger("junction.fuzz.requests", 3000);

  /** What grpc-java hands a marshaller: a stream that knows its length. */
  private static final class Message extends ByteArrayInputStream implements KnownLength {
    Message(byte[] bytes) {
      super(bytes);
    }
  }

  @Test
  void pooledParsingAgreesWithProtobufOnEveryMessageWholeOrDamaged() throws Exception {
    BufferPool pool = new BufferPool(64L << 20, 16L << 20);
    // Every request is copied to a pooled buffer and split there (the path of requests from 64 KiB).
    InferRequestMarshaller marshaller = new InferRequestMarshaller(1 << 30, 1 << 30, 1, pool);
    Random random = new Random(SEED);
    int parsed = 0;
    int refused = 0;
    for (int i = 0; i < CASES; i++) {
      byte[] bytes = wire(random, request(random));
      boolean damaged = random.nextBoolean();
      if (damaged) {
        bytes = damage(random, bytes);
      }
      String what = "case " + i + " of seed " + SEED + (damaged ? " (damaged)" : "") + ": " + ByteString.copyFrom(bytes);
      ModelInferRequest expected;
      try {
        expected = ModelInferRequest.parseFrom(bytes);
      } catch (InvalidProtocolBufferException e) {
        expected = null;
      }
      ReceivedRequest got = marshaller.parse(new Message(bytes));
      if (expected == null || (got instanceof ReceivedRequest.Refused && hasTopLevelGroup(bytes))) {
        // Groups, which no ModelInferRequest field is, are refused by the splitter though protobuf keeps them unknown.
        assertThat(got).as(what).isInstanceOfSatisfying(ReceivedRequest.Refused.class,
            r -> assertThat(r.code()).isEqualTo(Status.Code.INVALID_ARGUMENT));
        refused++;
        continue;
      }
      assertThat(got).as(what).isInstanceOf(ReceivedRequest.Parsed.class);
      ReceivedRequest.Parsed p = (ReceivedRequest.Parsed) got;
      ModelInferRequest.Builder whole = p.request().toBuilder();
      for (ByteBuffer raw : p.rawContents()) {
        whole.addRawInputContents(UnsafeByteOperations.unsafeWrap(raw.duplicate()));
      }
      assertThat(whole.build()).as(what).isEqualTo(expected);
      p.memory().release();
      parsed++;
    }
    assertThat(parsed).as("messages parsed").isGreaterThan(CASES / 3);
    assertThat(refused).as("messages refused").isGreaterThan(CASES / 10);
    // Parsed one at a time, each back before the next: a buffer per size class at most, none kept by a refusal.
    assertThat(pool.allocations()).as("direct buffers allocated for %d messages", CASES).isLessThanOrEqualTo(12);
  }

  private static ModelInferRequest request(Random r) {
    ModelInferRequest.Builder b = ModelInferRequest.newBuilder().setModelName(text(r)).setModelVersion(text(r))
        .setId(text(r));
    for (int i = r.nextInt(3); i > 0; i--) {
      b.putParameters(text(r), parameter(r));
    }
    for (int i = r.nextInt(4); i > 0; i--) {
      InferInputTensor.Builder in = InferInputTensor.newBuilder().setName(text(r)).setDatatype("FP32");
      for (int d = r.nextInt(4); d > 0; d--) {
        in.addShape(r.nextInt(1000) - 2);
      }
      if (r.nextInt(3) == 0) {
        in.setContents(InferTensorContents.newBuilder().addFp32Contents(r.nextFloat()).addInt64Contents(r.nextLong())
            .addBytesContents(ByteString.copyFromUtf8(text(r))));
      }
      if (r.nextBoolean()) {
        in.putParameters(text(r), parameter(r));
      }
      b.addInputs(in);
    }
    for (int i = r.nextInt(3); i > 0; i--) {
      b.addOutputs(InferRequestedOutputTensor.newBuilder().setName(text(r)).putParameters("classification",
          InferParameter.newBuilder().setInt64Param(r.nextInt(5)).build()));
    }
    for (int i = r.nextInt(4); i > 0; i--) {
      byte[] raw = new byte[r.nextInt(4) == 0 ? r.nextInt(70_000) : r.nextInt(300)];
      r.nextBytes(raw);
      b.addRawInputContents(ByteString.copyFrom(raw));
    }
    return b.build();
  }

  private static String text(Random r) {
    return Integer.toString(r.nextInt(1 << 20), 36) + (r.nextInt(10) == 0 ? "\u00e9\u4e2d" : "");
  }

  private static InferParameter parameter(Random r) {
    return switch (r.nextInt(3)) {
      case 0 -> InferParameter.newBuilder().setInt64Param(r.nextLong()).build();
      case 1 -> InferParameter.newBuilder().setStringParam(text(r)).build();
      default -> InferParameter.newBuilder().setDoubleParam(r.nextDouble()).build();
    };
  }

  /**
   * The request's fields, each raw contents field and some unknown fields put between the others at random (the
   * order of the raw contents kept: it is theirs to the inputs).
   */
  private static byte[] wire(Random r, ModelInferRequest request) throws IOException {
    List<byte[]> fields = topLevelFields(request.toBuilder().clearRawInputContents().build().toByteArray());
    for (ByteString raw : request.getRawInputContentsList()) {
      ByteArrayOutputStream f = new ByteArrayOutputStream();
      var out = CodedOutputStream.newInstance(f);
      out.writeBytes(RawContentsSplitter.RAW_INPUT_CONTENTS, raw);
      out.flush();
      int after = fields.isEmpty() ? 0 : r.nextInt(fields.size() + 1);
      fields.add(after, f.toByteArray());
    }
    for (int i = r.nextInt(3); i > 0; i--) {
      ByteArrayOutputStream f = new ByteArrayOutputStream();
      var out = CodedOutputStream.newInstance(f);
      int number = 20 + r.nextInt(5000);
      switch (r.nextInt(4)) {
        case 0 -> out.writeUInt64(number, r.nextLong());
        case 1 -> out.writeFixed32(number, r.nextInt());
        case 2 -> out.writeFixed64(number, r.nextLong());
        default -> out.writeBytes(number, ByteString.copyFromUtf8(text(r)));
      }
      out.flush();
      fields.add(r.nextInt(fields.size() + 1), f.toByteArray());
    }
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    fields.forEach(f -> all.write(f, 0, f.length));
    return all.toByteArray();
  }

  /** A serialized message's top-level fields, each as its bytes, in order. */
  private static List<byte[]> topLevelFields(byte[] message) throws IOException {
    List<byte[]> fields = new ArrayList<>();
    CodedInputStream in = CodedInputStream.newInstance(message);
    int start = 0;
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      in.skipField(tag);
      fields.add(Arrays.copyOfRange(message, start, in.getTotalBytesRead()));
      start = in.getTotalBytesRead();
    }
    return fields;
  }

  private static byte[] damage(Random r, byte[] bytes) {
    byte[] b = bytes;
    for (int n = 1 + r.nextInt(3); n > 0 && b.length > 0; n--) {
      int at = r.nextInt(b.length);
      b = switch (r.nextInt(4)) {
        case 0 -> {
          byte[] c = b.clone();
          c[at] ^= (byte) (1 << r.nextInt(8));
          yield c;
        }
        case 1 -> Arrays.copyOf(b, at);
        case 2 -> {
          byte[] c = new byte[b.length + 1];
          System.arraycopy(b, 0, c, 0, at);
          c[at] = (byte) r.nextInt(256);
          System.arraycopy(b, at, c, at + 1, b.length - at);
          yield c;
        }
        default -> {
          int len = Math.min(b.length - at, 1 + r.nextInt(16));
          byte[] c = new byte[b.length + len];
          System.arraycopy(b, 0, c, 0, at + len);
          System.arraycopy(b, at, c, at + len, b.length - at);
          yield c;
        }
      };
    }
    return b;
  }

  /** Whether the message's top level holds a group (wire types 3 and 4), which only protobuf reads. */
  private static boolean hasTopLevelGroup(byte[] bytes) {
    CodedInputStream in = CodedInputStream.newInstance(bytes);
    try {
      for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
        int type = WireFormat.getTagWireType(tag);
        if (type == WireFormat.WIRETYPE_START_GROUP || type == WireFormat.WIRETYPE_END_GROUP) {
          return true;
        }
        in.skipField(tag);
      }
    } catch (IOException e) {
      return false;
    }
    return false;
  }
}
