package io.junction.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.util.JsonFormat;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.junction.proto.inference.DataType;
import io.junction.proto.inference.ModelConfig;
import io.junction.proto.inference.ModelConfigRequest;
import io.junction.proto.inference.ModelDynamicBatching;
import io.junction.proto.inference.ModelInput;
import io.junction.proto.inference.ModelInstanceGroup;
import io.junction.proto.inference.ModelOptimizationPolicy;
import io.junction.proto.inference.ModelOutput;
import io.junction.proto.inference.ModelParameter;
import io.junction.proto.inference.ModelQueuePolicy;
import io.junction.proto.inference.ModelRepositoryParameter;
import io.junction.proto.inference.ModelVersionPolicy;
import io.junction.proto.inference.ModelWarmup;
import io.junction.proto.inference.RepositoryModelLoadRequest;
import io.junction.server.InferRequests;
import io.junction.server.TestServer;
import io.junction.server.config.ModelControl;
import io.junction.server.config.ServerConfig;
import io.junction.server.inference.ModelCatalog;
import io.junction.testkit.DemoRepository;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Model configs made at random for the demo MLP (every section Junction reads, values sensible and not: batch sizes,
 * dims, datatypes, batching and queue policies, instance groups, version policies, warmup, optimization, backends),
 * loaded through the repository API: each loads or is refused with a client's status naming why, never a server
 * fault, within a deadline; a config that loaded serves its calls or refuses them cleanly; and the model serves
 * again once loaded without one. Seeded like {@link FuzzedRequestsTest}.
 */
class FuzzedConfigsTest {
  private static final long SEED = Long.getLong("junction.fuzz.seed", 20261203L);
  private static final int CONFIGS = Integer.getInteger("junction.fuzz.requests", 1500) / 5;
  private static final Set<Status.Code> REFUSALS = Set.of(Status.Code.INVALID_ARGUMENT, Status.Code.FAILED_PRECONDITION,
      Status.Code.NOT_FOUND, Status.Code.RESOURCE_EXHAUSTED, Status.Code.UNAVAILABLE);

  @TempDir Path dir;

  @Test
  void randomConfigsLoadOrAreRefusedCleanlyAndServeWhenLoaded() throws Exception {
    ServerConfig config = ServerConfig.loopback(DemoRepository.write(dir.resolve("repo")))
        .withControl(ModelControl.explicit(Set.of("*"))).withOpenRepositoryApi();
    try (TestServer server = TestServer.start(config)) {
      Random random = new Random(SEED);
      int loaded = 0;
      for (int i = 0; i < CONFIGS; i++) {
        ModelConfig c = config(random);
        String json = JsonFormat.printer().print(c);
        String what = "config " + i + " of seed " + SEED + ": " + json;
        try {
          server.blocking().withDeadlineAfter(30, TimeUnit.SECONDS).repositoryModelLoad(load(json));
        } catch (StatusRuntimeException e) {
          assertThat(REFUSALS).as("%s\nanswered %s", what, e.getStatus()).contains(e.getStatus().getCode());
          assertThat(e.getStatus().getDescription()).as(what).contains("mlp").hasSizeLessThan(8192);
          continue;
        }
        loaded++;
        assertThat(server.blocking().modelConfig(ModelConfigRequest.newBuilder().setName("mlp").build()).getConfig()
            .getName()).as(what).isEqualTo("mlp");
        for (int rows : new int[] {1, 3}) {
          try {
            server.blocking().withDeadlineAfter(10, TimeUnit.SECONDS)
                .modelInfer(InferRequests.rawFp32("mlp", "", "x", new float[8 * rows], rows, 8));
          } catch (StatusRuntimeException e) {
            assertThat(REFUSALS).as("%s\na call answered %s", what, e.getStatus()).contains(e.getStatus().getCode());
          }
        }
      }
      assertThat(loaded).as("configs loaded of %d", CONFIGS).isBetween(CONFIGS / 20, CONFIGS - CONFIGS / 10);
      server.blocking().repositoryModelLoad(RepositoryModelLoadRequest.newBuilder().setModelName("mlp").build());
      assertThat(server.blocking().modelInfer(InferRequests.rawFp32("mlp", "", "x", new float[8], 1, 8))
          .getOutputsCount()).isEqualTo(1);
    }
  }

  private static RepositoryModelLoadRequest load(String json) {
    return RepositoryModelLoadRequest.newBuilder().setModelName("mlp").putParameters(ModelCatalog.CONFIG_PARAMETER,
        ModelRepositoryParameter.newBuilder().setStringParam(json).build()).build();
  }

  private static <T> T any(Random r, List<T> values) {
    return values.get(r.nextInt(values.size()));
  }

  private static boolean sometimes(Random r) {
    return r.nextInt(3) == 0;
  }

  private static ModelConfig config(Random r) {
    ModelConfig.Builder b = ModelConfig.newBuilder();
    if (sometimes(r)) {
      b.setName(any(r, List.of("mlp", "other", "")));
    }
    if (sometimes(r)) {
      b.setBackend(any(r, List.of("onnxruntime", "", "python", "tensorrt")));
    }
    if (sometimes(r)) {
      b.setPlatform(any(r, List.of("onnxruntime_onnx", "tensorflow_savedmodel", "")));
    }
    b.setMaxBatchSize(r.nextInt(4) == 0 ? any(r, List.of(0, 1, -1, 1_000_000, Integer.MAX_VALUE)) : 64);
    if (sometimes(r)) {
      b.addInput(ModelInput.newBuilder().setName(any(r, List.of("x", "x", "nope")))
          .setDataType(any(r, List.of(DataType.TYPE_FP32, DataType.TYPE_FP32, DataType.TYPE_FP16, DataType.TYPE_STRING)))
          .addAllDims(any(r, List.of(List.of(8L), List.of(8L), List.of(-1L), List.of(9L), List.of(8L, 1L), List.of()))));
      if (r.nextInt(5) == 0) {
        b.getInputBuilder(0).setOptional(true);
      }
    }
    if (sometimes(r)) {
      b.addOutput(ModelOutput.newBuilder().setName(any(r, List.of("y", "y", "nope")))
          .setDataType(any(r, List.of(DataType.TYPE_FP32, DataType.TYPE_INT64)))
          .addAllDims(any(r, List.of(List.of(4L), List.of(4L), List.of(-1L), List.of(5L))))
          .setLabelFilename(r.nextInt(6) == 0 ? any(r, List.of("labels.txt", "../../etc/passwd", "/etc/passwd")) : ""));
    }
    if (sometimes(r)) {
      ModelDynamicBatching.Builder d = ModelDynamicBatching.newBuilder();
      for (int k = r.nextInt(3); k > 0; k--) {
        d.addPreferredBatchSize(any(r, List.of(1, 4, 64, 0, -3, 100)));
      }
      d.setMaxQueueDelayMicroseconds(any(r, List.of(0L, 100L, 5000L, 3_600_000_000L, -1L)));
      if (sometimes(r)) {
        d.setPriorityLevels(any(r, List.of(0L, 2L, 5L, -1L)));
        d.setDefaultPriorityLevel(any(r, List.of(0L, 1L, 3L, 9L)));
      }
      if (sometimes(r)) {
        d.setDefaultQueuePolicy(queuePolicy(r));
      }
      if (r.nextInt(5) == 0) {
        d.putPriorityQueuePolicy(any(r, List.of(1L, 2L, 0L, 99L)), queuePolicy(r));
      }
      b.setDynamicBatching(d);
    }
    if (sometimes(r)) {
      ModelInstanceGroup.Builder g = ModelInstanceGroup.newBuilder().setCount(any(r, List.of(0, 1, 2, -1, 1000)))
          .setKind(any(r, List.of(ModelInstanceGroup.Kind.KIND_CPU, ModelInstanceGroup.Kind.KIND_AUTO,
              ModelInstanceGroup.Kind.KIND_GPU, ModelInstanceGroup.Kind.KIND_MODEL)));
      if (r.nextInt(5) == 0) {
        g.addGpus(any(r, List.of(0, 1, -1)));
      }
      b.addInstanceGroup(g);
    }
    if (sometimes(r)) {
      b.setVersionPolicy(switch (r.nextInt(3)) {
        case 0 -> ModelVersionPolicy.newBuilder().setLatest(ModelVersionPolicy.Latest.newBuilder()
            .setNumVersions(any(r, List.of(0, 1, 5, -1))));
        case 1 -> ModelVersionPolicy.newBuilder().setSpecific(ModelVersionPolicy.Specific.newBuilder()
            .addVersions(any(r, List.of(1L, 2L, 3L, -1L))));
        default -> ModelVersionPolicy.newBuilder().setAll(ModelVersionPolicy.All.getDefaultInstance());
      });
    }
    if (r.nextInt(5) == 0) {
      b.setOptimization(ModelOptimizationPolicy.newBuilder().setGraph(ModelOptimizationPolicy.Graph.newBuilder()
          .setLevel(any(r, List.of(-1, 0, 1, 2, 99)))));
    }
    if (r.nextInt(5) == 0) {
      ModelWarmup.Input.Builder in = ModelWarmup.Input.newBuilder()
          .setDataType(any(r, List.of(DataType.TYPE_FP32, DataType.TYPE_INT32, DataType.TYPE_STRING)))
          .addAllDims(any(r, List.of(List.of(8L), List.of(1L, 8L), List.of(-1L), List.of(1L << 40))));
      switch (r.nextInt(3)) {
        case 0 -> in.setZeroData(true);
        case 1 -> in.setRandomData(true);
        default -> in.setInputDataFile(any(r, List.of("x.bin", "../../../etc/passwd")));
      }
      b.addModelWarmup(ModelWarmup.newBuilder().setName("w").setBatchSize(any(r, List.of(0, 1, 4, 1000, -1)))
          .setCount(any(r, List.of(0, 1, 3, -1))).putInputs(any(r, List.of("x", "nope")), in.build()));
    }
    if (r.nextInt(5) == 0) {
      b.putParameters(any(r, List.of("batch_wait_while_idle", "intra_op_thread_count", "x")),
          ModelParameter.newBuilder().setStringValue(any(r, List.of("true", "maybe", "-1", "4", ""))).build());
    }
    if (r.nextInt(6) == 0) {
      b.setDefaultModelFilename(any(r, List.of("model.onnx", "nope.onnx", "../1/model.onnx", "")));
    }
    return b.build();
  }

  private static ModelQueuePolicy queuePolicy(Random r) {
    return ModelQueuePolicy.newBuilder()
        .setTimeoutAction(any(r, List.of(ModelQueuePolicy.TimeoutAction.REJECT, ModelQueuePolicy.TimeoutAction.DELAY)))
        .setDefaultTimeoutMicroseconds(any(r, List.of(0L, 1L, 1000L, -1L)))
        .setAllowTimeoutOverride(r.nextBoolean())
        .setMaxQueueSize(any(r, List.of(0, 1, 100, -1))).build();
  }
}
