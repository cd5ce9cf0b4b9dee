package io.junction.server.it;

import static io.junction.server.InferRequests.floats;
import static io.junction.server.InferRequests.rawFp32;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.junction.proto.inference.GRPCInferenceServiceGrpc;
import io.junction.proto.inference.InferBatchStatistics;
import io.junction.proto.inference.ModelInferResponse;
import io.junction.proto.inference.ModelStatistics;
import io.junction.proto.inference.ModelStatisticsRequest;
import io.junction.server.TestServer;
import io.junction.testkit.Mlp;
import io.junction.testkit.ModelRepositoryWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The model parameter {@code batch_wait_while_idle}: Triton's rule, a batch waits for its preferred size up to the
 * queue delay even while an instance is idle; and batching configs the batcher would refuse fail the load.
 */
class BatchWaitWhileIdleTest {
  @TempDir Path repo;

  @Test
  void callsArrivingOneByOneToAnIdleModelRunAsOneBatchOfThePreferredSize() throws Exception {
    Mlp mlp = Mlp.seeded(3, 2, 4);
    // A delay no test would wait out: the batch can go only at its preferred size.
    new ModelRepositoryWriter(repo).model("held", 1, mlp.onnx()).config("held", """
        max_batch_size: 8
        dynamic_batching { preferred_batch_size: [ 4 ] max_queue_delay_microseconds: 600000000 }
        parameters { key: "batch_wait_while_idle" value: { string_value: "true" } }
        """);
    try (TestServer server = TestServer.start(repo)) {
      List<float[]> inputs = new ArrayList<>();
      List<Future<ModelInferResponse>> answers = new ArrayList<>();
      var stub = GRPCInferenceServiceGrpc.newFutureStub(server.channel())
          .withDeadlineAfter(30, TimeUnit.SECONDS);
      for (int i = 0; i < 4; i++) {
        float[] x = {i, 1 - i, 0.5f * i};
        inputs.add(x);
        answers.add(stub.modelInfer(rawFp32("held", "", "x", x, 1, 3)));
        if (i < 3) {
          // Each call has reached the queue, and waits there with the instance idle, before the next is sent.
          long before = System.nanoTime();
          while (queued(server) < i + 1) {
            assertThat(System.nanoTime() - before).as("call %d reaching the queue", i).isLessThan(10_000_000_000L);
            Thread.sleep(5);
          }
          assertThat(answers.get(i).isDone()).as("call %d answered before its batch was full", i).isFalse();
        }
      }
      for (int i = 0; i < 4; i++) {
        float[] y = floats(answers.get(i).get(30, TimeUnit.SECONDS), 0);
        float[] expected = mlp.expected(inputs.get(i), 1);
        for (int k = 0; k < expected.length; k++) {
          assertThat(y[k]).as("call %d element %d", i, k).isCloseTo(expected[k], within(1e-5f));
        }
      }
      ModelStatistics s = server.blocking().modelStatistics(ModelStatisticsRequest.newBuilder().setName("held").build())
          .getModelStats(0);
      assertThat(s.getBatchStatsList()).extracting(InferBatchStatistics::getBatchSize).containsExactly(4L);
      assertThat(s.getBatchStatsList()).extracting(b -> b.getComputeInfer().getCount()).containsExactly(1L);
    }
  }

  @Test
  void batchingConfigsTheBatcherWouldRefuseFailTheLoadWithTheReason() throws Exception {
    byte[] onnx = Mlp.seeded(3, 2, 4).onnx();
    new ModelRepositoryWriter(repo)
        .model("unclear", 1, onnx).config("unclear", """
            max_batch_size: 8
            dynamic_batching { max_queue_delay_microseconds: 100 }
            parameters { key: "batch_wait_while_idle" value: { string_value: "sometimes" } }
            """)
        .model("too_big", 1, onnx).config("too_big", """
            max_batch_size: 8
            dynamic_batching { preferred_batch_size: [ 4, 16 ] }
            """)
        .model("fine", 1, onnx).config("fine", "max_batch_size: 8\ndynamic_batching { }\n");
    try (TestServer server = TestServer.start(repo)) {
      assertThat(server.indexEntry("unclear").getState()).isEqualTo("UNAVAILABLE");
      assertThat(server.indexEntry("unclear").getReason())
          .contains("unclear", "batch_wait_while_idle", "\"true\" or \"false\"", "\"sometimes\"");
      assertThat(server.indexEntry("too_big").getState()).isEqualTo("UNAVAILABLE");
      assertThat(server.indexEntry("too_big").getReason()).contains("too_big", "preferred_batch_size 16 must be 1..8");
      assertThat(server.indexEntry("fine").getState()).isEqualTo("READY");
    }
  }

  /** Requests waiting in the model's queue, from the server's own gauge. */
  private static double queued(TestServer server) throws IOException {
    return server.metric("nv_inference_pending_request_count{model=\"held\",version=\"1\"}", -1);
  }
}
