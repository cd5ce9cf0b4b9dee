package io.junction.server.it;

import static io.junction.server.InferRequests.floats;
import static io.junction.server.InferRequests.input;
import static io.junction.server.InferRequests.rawFp32;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonArray;
import com.google.gson.JsonParser;
import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.junction.proto.inference.ModelInferRequest;
import io.junction.proto.inference.ModelInferResponse;
import io.junction.proto.inference.ModelStreamInferResponse;
import io.junction.server.StreamAnswers;
import io.junction.server.TestServer;
import io.junction.testkit.DeepMlp;
import io.junction.testkit.FixtureModels;
import io.junction.testkit.ModelRepositoryWriter;
import io.junction.testkit.OnnxModelBuilder;
import io.junction.testkit.OnnxType;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.Assertions;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Requests of 64 KiB and more are copied once into pooled direct buffers that the backend reads in place
 * and that go back to the pool once the request is done; outputs of 64 KiB and more whose shape the model
 * fixes are written by ONNX Runtime into pooled buffers that go back once the answer is written. A buffer
 * handed out again too early would show as another call's numbers in an answer; one never given back, as an
 * allocation per call.
 */
class PooledRequestBuffersTest {
  /** 40,000 rows of 4 FP32: 640 KB, pooled but parsed on the transport's threads. */
  private static final int MEDIUM_ROWS = 40_000;
  /** 80,000 rows: 1.28 MB, a large request, parsed on the large-request lane. */
  private static final int LARGE_ROWS = 80_000;
  /** 512 → 1024 → 512: 64 rows are 128 KB of input and take milliseconds to run. */
  private static final DeepMlp DEEP = DeepMlp.seeded(3, 512, 1024, 512);
  private static final int DEEP_ROWS = 64;
  /** 8,192 rows of 4 FP32: a 128 KB output. */
  private static final int RESHAPED_ROWS = 8192;

  @TempDir Path dir;

  @Test
  void concurrentCallsEachGetTheirOwnAnswersWhileOthersWaitForTheDevice() throws Exception {
    try (TestServer server = TestServer.start(repository())) {
      ExecutorService callers = Executors.newFixedThreadPool(6);
      try {
        List<Future<?>> calls = new ArrayList<>();
        for (int caller = 0; caller < 6; caller++) {
          int id = caller;
          calls.add(callers.submit(() -> {
            for (int i = 0; i < 6; i++) {
              int seed = id * 100 + i;
              if (i % 2 == 0) {
                // ~10 ms per batch: requests wait in the queue, holding their buffers, while others arrive.
                float[] x = activations(seed, DEEP_ROWS * DEEP.inputs());
                ModelInferResponse answer = server.blocking().modelInfer(rawFp32("deep", "", DeepMlp.INPUT, x,
                    DEEP_ROWS, DEEP.inputs()));
                float[] expected = DEEP.expected(x, DEEP_ROWS);
                float[] got = floats(answer, 0);
                assertThat(got).as("call %d of caller %d to deep", i, id).hasSameSizeAs(expected);
                for (int j = 0; j < got.length; j++) {
                  assertThat(got[j]).as("call %d of caller %d, output %d", i, id, j)
                      .isCloseTo(expected[j], Offset.offset(1e-3f + Math.abs(expected[j]) * 1e-3f));
                }
              } else {
                call(server, id % 2 == 0 ? "alone" : "batched", seed, i % 3 == 1 ? LARGE_ROWS : MEDIUM_ROWS);
              }
            }
            return null;
          }));
        }
        for (Future<?> call : calls) {
          call.get(120, TimeUnit.SECONDS);
        }
      } finally {
        callers.shutdownNow();
      }
    }
  }

  @Test
  void buffersGoBackToThePoolAfterEachCall() throws Exception {
    try (TestServer server = TestServer.start(repository())) {
      for (String model : List.of("alone", "batched")) {
        call(server, model, 0, MEDIUM_ROWS);
        call(server, model, 0, LARGE_ROWS);
      }
      double before = server.metric("junction_request_buffers_allocated_total", -1);
      assertThat(before).as("the pool's allocations are exported").isPositive();
      for (int i = 0; i < 40; i++) {
        call(server, i % 2 == 0 ? "alone" : "batched", i, i % 4 == 0 ? LARGE_ROWS : MEDIUM_ROWS);
      }
      // The answer can reach the client a moment before the buffer is back: a few more buffers, never one per call.
      assertThat(server.metric("junction_request_buffers_allocated_total", -1) - before)
          .as("buffers allocated for 40 more calls of the same sizes").isLessThanOrEqualTo(4);
      // Once the answers are out the buffers wait in the pool, and its gauge says how much it holds that way.
      double idle = server.metric("junction_request_buffers_idle_bytes", -1);
      assertThat(idle).as("request buffers idle in the pool after the calls")
          .isGreaterThanOrEqualTo(MEDIUM_ROWS * 4 * 4).isLessThanOrEqualTo(64 << 20);
    }
  }

  @Test
  void largeOutputsAreWrittenIntoPooledBuffersThatGoBackOnceAnswered() throws Exception {
    try (TestServer server = TestServer.start(repository())) {
      call(server, "batched", 0, MEDIUM_ROWS);
      // A batch of one request needs no merged input: what the batch pool holds here are its outputs.
      double before = server.metric("junction_batch_buffers_allocated_total", -1);
      assertThat(before).as("the 640 KB output was written into a pooled buffer").isPositive();
      for (int i = 0; i < 40; i++) {
        call(server, "batched", i, MEDIUM_ROWS);
      }
      assertThat(server.metric("junction_batch_buffers_allocated_total", -1) - before)
          .as("buffers allocated for 40 more calls of the same size").isLessThanOrEqualTo(4);
      assertThat(server.metric("junction_batch_buffers_idle_bytes", -1)).as("output buffers idle in the pool")
          .isGreaterThanOrEqualTo(MEDIUM_ROWS * 4 * 4);
    }
  }

  @Test
  void restAnswersGiveTheirOutputBuffersBackToo() throws Exception {
    try (TestServer server = TestServer.start(repository())) {
      HttpClient http = HttpClient.newHttpClient();
      URI uri = URI.create("http://127.0.0.1:" + server.server().httpPort().orElseThrow()
          + "/v2/models/batched/infer");
      int rows = 5_000; // an 80 KB output
      double before = -1;
      for (int i = 0; i < 12; i++) {
        float[] sent = numbers(i, rows);
        StringBuilder body = new StringBuilder("{\"inputs\":[{\"name\":\"" + FixtureModels.IDENTITY_INPUT
            + "\",\"datatype\":\"FP32\",\"shape\":[" + rows + "," + FixtureModels.IDENTITY_COLUMNS + "],\"data\":[");
        for (int j = 0; j < sent.length; j++) {
          body.append(j == 0 ? "" : ",").append((long) sent[j]);
        }
        body.append("]}]}");
        var answer = http.send(HttpRequest.newBuilder(uri)
            .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build(),
            HttpResponse.BodyHandlers.ofString());
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        JsonArray data = JsonParser.parseString(answer.body()).getAsJsonObject()
            .getAsJsonArray("outputs").get(0).getAsJsonObject().getAsJsonArray("data");
        assertThat(data.size()).isEqualTo(sent.length);
        for (int j = 0; j < sent.length; j += 331) {
          assertThat(data.get(j).getAsFloat()).as("REST call %d, element %d", i, j).isEqualTo(sent[j]);
        }
        if (i == 1) {
          before = server.metric("junction_batch_buffers_allocated_total", -1);
        }
      }
      assertThat(before).as("outputs written into pooled buffers").isPositive();
      assertThat(server.metric("junction_batch_buffers_allocated_total", -1) - before)
          .as("buffers allocated for 10 more REST calls of the same size").isLessThanOrEqualTo(2);
    }
  }

  @Test
  void streamedAnswersKeepTheirOutputsUntilSentInOrder() throws Exception {
    try (TestServer server = TestServer.start(repository())) {
      int requests = 24;
      StreamAnswers collected = new StreamAnswers();
      StreamObserver<ModelInferRequest> stream = server.async().modelStreamInfer(collected);
      // Requests run concurrently and in shared batches; answers wait for those before them, their outputs
      // views of batch buffers that other batches would reuse if they went back before being sent.
      for (int i = 0; i < requests; i++) {
        stream.onNext(rawFp32("batched", "", FixtureModels.IDENTITY_INPUT, numbers(i, MEDIUM_ROWS), MEDIUM_ROWS,
            FixtureModels.IDENTITY_COLUMNS).toBuilder().setId("r" + i).build());
      }
      stream.onCompleted();
      List<ModelStreamInferResponse> answers = collected.await(120);
      assertThat(answers).hasSize(requests);
      for (int i = 0; i < requests; i++) {
        ModelStreamInferResponse answer = answers.get(i);
        assertThat(answer.getErrorMessage()).isEmpty();
        assertThat(answer.getInferResponse().getId()).isEqualTo("r" + i);
        assertThat(floats(answer.getInferResponse(), 0)).as("streamed answer %d", i).isEqualTo(numbers(i, MEDIUM_ROWS));
      }
    }
  }

  @Test
  void anOutputShapedOtherwiseThanItsModelDeclaresIsCopiedOutInstead() throws Exception {
    try (TestServer server = TestServer.start(repository())) {
      for (int i = 0; i < 3; i++) {
        float[] sent = numbers(i, RESHAPED_ROWS);
        // Declared [8192, 4], computed [4096, 8]: ONNX Runtime refuses the buffer sized from the declaration,
        // and the call is answered from its own memory (as is every later call of this model).
        ModelInferRequest request = rawFp32("reshaped", "", FixtureModels.IDENTITY_INPUT, sent, RESHAPED_ROWS,
            FixtureModels.IDENTITY_COLUMNS).toBuilder()
            .addInputs(input("shape", "INT64", 2))
            .addRawInputContents(int64(RESHAPED_ROWS / 2, 2L * FixtureModels.IDENTITY_COLUMNS))
            .build();
        ModelInferResponse answer = server.blocking().modelInfer(request);
        assertThat(answer.getOutputs(0).getShapeList()).as("call %d", i)
            .containsExactly((long) RESHAPED_ROWS / 2, 2L * FixtureModels.IDENTITY_COLUMNS);
        assertThat(floats(answer, 0)).as("call %d", i).isEqualTo(sent);
      }
    }
  }

  @Test
  void callsThatFailOrAreCancelledLeaveTheOthersCorrect() throws Exception {
    try (TestServer server = TestServer.start(repository())) {
      for (int i = 0; i < 20; i++) {
        float[] sent = numbers(i, MEDIUM_ROWS);
        try {
          // A deadline of a millisecond: the call is cancelled on its way (its buffer may still be read).
          server.blocking().withDeadlineAfter(1, TimeUnit.MILLISECONDS).modelInfer(
              rawFp32("batched", "", FixtureModels.IDENTITY_INPUT, sent, MEDIUM_ROWS, FixtureModels.IDENTITY_COLUMNS));
        } catch (StatusRuntimeException e) {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
        }
        StatusRuntimeException wrong = Assertions.catchThrowableOfType(() -> server.blocking()
            .modelInfer(rawFp32("alone", "", FixtureModels.IDENTITY_INPUT, sent, MEDIUM_ROWS, 3)),
            StatusRuntimeException.class);
        assertThat(wrong.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        call(server, i % 2 == 0 ? "alone" : "batched", 100 + i, i % 2 == 0 ? LARGE_ROWS : MEDIUM_ROWS);
      }
    }
  }

  private static void call(TestServer server, String model, int seed, int rows) {
    float[] sent = numbers(seed, rows);
    ModelInferResponse answer = server.blocking().modelInfer(rawFp32(model, "", FixtureModels.IDENTITY_INPUT, sent,
        rows, FixtureModels.IDENTITY_COLUMNS));
    assertThat(floats(answer, 0)).as("%s answered call %d with its own numbers", model, seed).isEqualTo(sent);
  }

  /** Numbers no other call sends: the seed in every element, and the position. */
  private static float[] numbers(int seed, int rows) {
    float[] values = new float[rows * FixtureModels.IDENTITY_COLUMNS];
    for (int i = 0; i < values.length; i++) {
      values[i] = seed * 1_000_000f + i;
    }
    return values;
  }

  /** Other numbers for each seed, small enough for the MLP's activations. */
  private static float[] activations(int seed, int count) {
    float[] values = new float[count];
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) Math.sin(seed * 7.1 + i * 0.013);
    }
    return values;
  }

  /**
   * Declares a fixed output shape, {@code [8192, 4]}, but reshapes its input to the shape the caller sends: ONNX
   * Runtime's shape inference cannot tell, so it reports the declared shape.
   */
  private static byte[] reshapedToWhatTheCallerSays() {
    return new OnnxModelBuilder("reshaped")
        .input(FixtureModels.IDENTITY_INPUT, OnnxType.FLOAT, RESHAPED_ROWS, FixtureModels.IDENTITY_COLUMNS)
        .input("shape", OnnxType.INT64, 2)
        .output(FixtureModels.IDENTITY_OUTPUT, OnnxType.FLOAT, RESHAPED_ROWS, FixtureModels.IDENTITY_COLUMNS)
        .node("Reshape", List.of(FixtureModels.IDENTITY_INPUT, "shape"), List.of(FixtureModels.IDENTITY_OUTPUT))
        .build();
  }

  private static ByteString int64(long... values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
    for (long v : values) {
      b.putLong(v);
    }
    return ByteString.copyFrom(b.flip());
  }

  /**
   * The identity model twice: without batching (each request runs alone) and with dynamic batching; and an
   * MLP slow enough that requests queue behind each other.
   */
  private Path repository() throws Exception {
    byte[] identity = FixtureModels.identity(OnnxType.FLOAT);
    return new ModelRepositoryWriter(dir.resolve("repo"))
        .model("alone", 1, identity)
        .config("alone", "max_batch_size: 0\n")
        .model("batched", 1, identity)
        .config("batched", "max_batch_size: 400000\ndynamic_batching { max_queue_delay_microseconds: 3000 }\n")
        .model("reshaped", 1, reshapedToWhatTheCallerSays())
        .config("reshaped", "max_batch_size: 0\n")
        .model("deep", 1, DEEP.onnx())
        .config("deep", "max_batch_size: 256\ndynamic_batching { max_queue_delay_microseconds: 2000 }\n")
        .root();
  }
}
