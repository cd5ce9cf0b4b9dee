package io.junction.server.it;

import static io.junction.server.InferRequests.floats;
import static io.junction.server.InferRequests.rawFp32;
import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.junction.proto.inference.ModelInferResponse;
import io.junction.server.TestServer;
import io.junction.testkit.DeepMlp;
import io.junction.testkit.FixtureModels;
import io.junction.testkit.ModelRepositoryWriter;
import io.junction.testkit.OnnxType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Requests of 64 KiB and more are copied once into pooled direct buffers that the backend reads in place
 * and that go back to the pool once the request is done. A buffer handed out again too early would show
 * as another call's numbers in an answer; one never given back, as an allocation per call.
 */
class PooledRequestBuffersTest {
  /** 40,000 rows of 4 FP32: 640 KB, pooled but parsed on the transport's threads. */
  private static final int MEDIUM_ROWS = 40_000;
  /** 80,000 rows: 1.28 MB, a large request, parsed on the large-request lane. */
  private static final int LARGE_ROWS = 80_000;
  /** 512 → 1024 → 512: 64 rows are 128 KB of input and take milliseconds to run. */
  private static final DeepMlp DEEP = DeepMlp.seeded(3, 512, 1024, 512);
  private static final int DEEP_ROWS = 64;

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
                      .isCloseTo(expected[j], org.assertj.core.data.Offset.offset(1e-3f + Math.abs(expected[j]) * 1e-3f));
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
        StatusRuntimeException wrong = org.assertj.core.api.Assertions.catchThrowableOfType(() -> server.blocking()
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
        .model("deep", 1, DEEP.onnx())
        .config("deep", "max_batch_size: 256\ndynamic_batching { max_queue_delay_microseconds: 2000 }\n")
        .root();
  }
}
