package io.junction.server.it;

import static io.junction.server.InferRequests.floats;
import static io.junction.server.InferRequests.ramp;
import static io.junction.server.InferRequests.rawFp32;
import static org.assertj.core.api.Assertions.assertThat;

import io.junction.proto.inference.ModelConfig;
import io.junction.proto.inference.ModelConfigRequest;
import io.junction.proto.inference.ModelInferResponse;
import io.junction.proto.inference.ServerReadyRequest;
import io.junction.server.LoggedLines;
import io.junction.server.TestServer;
import io.junction.server.model.ModelConfigResolver;
import io.junction.testkit.ImageClassifier;
import io.junction.testkit.ModelRepositoryWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A repository written for Triton: an image classifier with a dynamic batch dimension and spatial
 * dimensions, and a config.pbtxt full of fields Junction does not use (yet). It must load and serve, and say which
 * of its parameters have no effect here.
 */
class TritonRepositoryTest {
  private static final String TRITON_CONFIG = """
      name: "classifier"
      platform: "onnxruntime_onnx"
      max_batch_size: 8
      input [
        {
          name: "image"
          data_type: TYPE_FP32
          format: FORMAT_NCHW
          dims: [ 3, 48, 192 ]
        }
      ]
      output [
        {
          name: "probabilities"
          data_type: TYPE_FP32
          dims: [ 5 ]
          label_filename: "labels.txt"
        }
      ]
      batch_input [ { kind: BATCH_ELEMENT_COUNT target_name: "n" data_type: TYPE_FP32 source_input: "image" } ]
      dynamic_batching {
        preferred_batch_size: [ 4, 8 ]
        max_queue_delay_microseconds: 100
        default_queue_policy { timeout_action: REJECT default_timeout_microseconds: 50000 max_queue_size: 64 }
      }
      instance_group [ { count: 2, kind: KIND_CPU } ]
      optimization {
        graph { level: 1 }
        execution_accelerators { cpu_execution_accelerator: [ { name: "openvino" } ] }
      }
      model_warmup [
        {
          name: "zeros"
          batch_size: 1
          inputs { key: "image" value: { data_type: TYPE_FP32 dims: [ 3, 48, 192 ] zero_data: true } }
        }
      ]
      parameters { key: "intra_op_thread_count" value: { string_value: "1" } }
      parameters { key: "execution_mode" value: { string_value: "0" } }
      response_cache { enable: false }
      """;

  @TempDir Path repo;

  @Test
  void loadsAndServesCorrectResults() throws Exception {
    ImageClassifier model = ImageClassifier.seeded(3, 48, 192, 5, 11);
    new ModelRepositoryWriter(repo).model("classifier", 1, model.onnx()).config("classifier", TRITON_CONFIG)
        .file("classifier", "labels.txt", "a\nb\nc\nd\ne\n".getBytes(StandardCharsets.UTF_8));
    try (LoggedLines warnings = LoggedLines.of(ModelConfigResolver.class); TestServer server = TestServer.start(repo)) {
      // Triton's ONNX Runtime backend reads execution_mode; Junction's does not, and says so once for the version.
      assertThat(warnings.messages()).singleElement().asString()
          .startsWith("model 'classifier' version 1: config.pbtxt parameters [execution_mode] have no effect: "
              + "nothing in this server reads them (it reads [batch_wait_while_idle, inter_op_thread_count, "
              + "intra_op_thread_count, payload_log_exclude,");
      assertThat(server.blocking().serverReady(ServerReadyRequest.getDefaultInstance()).getReady()).isTrue();
      for (int batch : new int[] {1, 3, 8}) {
        float[] images = ramp(batch * 3 * 48 * 192, 0.003f * batch);
        ModelInferResponse r = server.blocking().modelInfer(
            rawFp32("classifier", "1", "image", images, batch, 3, 48, 192));
        assertThat(r.getOutputs(0).getShapeList()).containsExactly((long) batch, 5L);
        DemoRepositoryEndToEndTest.assertClose(floats(r, 0), model.expected(images, batch));
      }
      ModelConfig served = server.blocking().modelConfig(ModelConfigRequest.newBuilder().setName("classifier").build())
          .getConfig();
      assertThat(served.getDynamicBatching().getPreferredBatchSizeList()).containsExactly(4, 8);
      assertThat(served.getDynamicBatching().getDefaultQueuePolicy().getMaxQueueSize()).isEqualTo(64);
      assertThat(served.getInstanceGroup(0).getCount()).isEqualTo(2);
      assertThat(served.getModelWarmup(0).getInputsMap()).containsKey("image");
      assertThat(served.getOutput(0).getLabelFilename()).isEqualTo("labels.txt");
    }
  }

  @Test
  void fieldsJunctionParsesButDoesNotImplementAreNamedOnceAtLoad() throws Exception {
    new ModelRepositoryWriter(repo).model("classifier", 1, ImageClassifier.seeded(3, 48, 192, 5, 11).onnx())
        .config("classifier", """
            max_batch_size: 8
            input [ { name: "image" data_type: TYPE_FP32 dims: [ 3, 48, 192 ] allow_ragged_batch: true } ]
            output [ { name: "probabilities" data_type: TYPE_FP32 dims: [ 5 ] } ]
            dynamic_batching { preserve_ordering: true }
            instance_group [ { count: 1 kind: KIND_CPU rate_limiter { resources [ { name: "r" count: 1 } ] } } ]
            model_transaction_policy { decoupled: true }
            metric_tags { key: "team" value: "vision" }
            response_cache { enable: false }
            """);
    try (LoggedLines warnings = LoggedLines.of(ModelConfigResolver.class); TestServer server = TestServer.start(repo)) {
      assertThat(warnings.messages()).singleElement().isEqualTo(
          "model 'classifier' version 1: config.pbtxt sets [model_transaction_policy.decoupled, metric_tags, "
              + "instance_group[KIND_CPU].rate_limiter, input[image].allow_ragged_batch], which Junction does not "
              + "implement: the model loads and runs without them");
      assertThat(server.indexEntry("classifier").getState()).isEqualTo("READY");
    }
  }
}
