package io.junction.server.it;

import static io.junction.server.InferRequests.rawFp32;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.junction.proto.inference.DataType;
import io.junction.proto.inference.GRPCInferenceServiceGrpc;
import io.junction.proto.inference.InferBatchStatistics;
import io.junction.proto.inference.ModelConfig;
import io.junction.proto.inference.ModelConfigRequest;
import io.junction.proto.inference.ModelReadyRequest;
import io.junction.proto.inference.ModelRepositoryParameter;
import io.junction.proto.inference.ModelStatistics;
import io.junction.proto.inference.ModelStatisticsRequest;
import io.junction.proto.inference.RepositoryIndexRequest;
import io.junction.proto.inference.RepositoryIndexResponse.ModelIndex;
import io.junction.proto.inference.RepositoryModelLoadRequest;
import io.junction.proto.inference.RepositoryModelUnloadRequest;
import io.junction.server.TestServer;
import io.junction.server.config.ModelControl;
import io.junction.server.config.ServerConfig;
import io.junction.server.inference.ModelCatalog;
import io.junction.testkit.Mlp;
import io.junction.testkit.ModelRepositoryWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** RepositoryIndex, RepositoryModelLoad/Unload, ModelStatistics and ModelConfig over the wire. */
class RepositoryControlTest {
  private static final String TOKEN = "repository-test-token-0123456789";

  @TempDir Path repo;

  @Test
  void unloadAndLoadAModel() throws Exception {
    ModelRepositoryWriter writer = new ModelRepositoryWriter(repo)
        .model("m", 1, Mlp.seeded(4, 2, 1).onnx())
        .config("m", "max_batch_size: 8\nversion_policy: { all {} }\n");
    try (TestServer server = TestServer.start(explicitAll())) {
      HealthGrpc.HealthBlockingStub health = HealthGrpc.newBlockingStub(server.channel());
      server.blocking().modelInfer(rawFp32("m", "", "x", new float[4], 1, 4));

      admin(server, TOKEN).repositoryModelUnload(RepositoryModelUnloadRequest.newBuilder().setModelName("m").build());
      assertThat(server.blocking().modelReady(ModelReadyRequest.newBuilder().setName("m").build()).getReady()).isFalse();
      assertThat(health.check(HealthCheckRequest.newBuilder().setService("m").build()).getStatus())
          .isEqualTo(ServingStatus.NOT_SERVING);
      assertThatThrownBy(() -> server.blocking().modelInfer(rawFp32("m", "", "x", new float[4], 1, 4)))
          .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
            assertThat(e.getStatus().getDescription()).contains("model 'm'", "unloaded");
          });
      List<ModelIndex> index = server.blocking().repositoryIndex(RepositoryIndexRequest.getDefaultInstance()).getModelsList();
      assertThat(index).extracting(ModelIndex::getName, ModelIndex::getVersion, ModelIndex::getState, ModelIndex::getReason)
          .containsExactly(Tuple.tuple("m", "1", "UNAVAILABLE", "unloaded"));
      assertThat(server.blocking().repositoryIndex(RepositoryIndexRequest.newBuilder().setReady(true).build())
          .getModelsList()).isEmpty();

      // A new version arrives on disk; an explicit load picks it up.
      writer.model("m", 2, Mlp.seeded(4, 2, 2).onnx());
      admin(server, TOKEN).repositoryModelLoad(RepositoryModelLoadRequest.newBuilder().setModelName("m").build());
      assertThat(server.blocking().modelReady(ModelReadyRequest.newBuilder().setName("m").setVersion("2").build())
          .getReady()).isTrue();
      assertThat(health.check(HealthCheckRequest.newBuilder().setService("m").build()).getStatus())
          .isEqualTo(ServingStatus.SERVING);
      assertThat(server.blocking().modelInfer(rawFp32("m", "", "x", new float[4], 1, 4)).getModelVersion()).isEqualTo("2");

      assertThatThrownBy(() -> admin(server, TOKEN).repositoryModelLoad(
          RepositoryModelLoadRequest.newBuilder().setModelName("absent").build()))
          .isInstanceOfSatisfying(StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
      assertThatThrownBy(() -> admin(server, TOKEN).repositoryModelLoad(RepositoryModelLoadRequest.newBuilder()
          .setModelName("m").putParameters("file:1/model.onnx",
              ModelRepositoryParameter.newBuilder()
                  .setBytesParam(ByteString.copyFromUtf8("x")).build()).build()))
          .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(e.getStatus().getDescription()).contains("file:1/model.onnx", "would write a file the client names",
                "never does");
          });
    }
  }

  private static RepositoryModelLoadRequest loadWithConfig(String model, String json) {
    return RepositoryModelLoadRequest.newBuilder().setModelName(model).putParameters(ModelCatalog.CONFIG_PARAMETER,
        ModelRepositoryParameter.newBuilder().setStringParam(json).build()).build();
  }

  private static ModelConfig config(TestServer server, String model) {
    return server.blocking().modelConfig(ModelConfigRequest.newBuilder().setName(model).build()).getConfig();
  }

  @Test
  void aModelNamedAtStartThatTheRepositoryLacksStopsTheStart() throws Exception {
    new ModelRepositoryWriter(repo).model("mlp", 1, Mlp.seeded(4, 2, 1).onnx())
        .model("text", 1, Mlp.seeded(4, 2, 2).onnx());
    // A misspelt --load-model used to leave the server up and ready without the model.
    assertThatThrownBy(() -> TestServer.start(ServerConfig.loopback(repo)
        .withControl(ModelControl.explicit(Set.of("mlp", "mlpp")))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--load-model names mlpp, which the model repository " + repo
            + " does not have (it has mlp, text)");
    try (TestServer server = TestServer.start(ServerConfig.loopback(repo)
        .withControl(ModelControl.explicit(Set.of("mlp"))))) {
      assertThat(server.blocking().modelReady(ModelReadyRequest.newBuilder().setName("mlp").build()).getReady())
          .as("the port the failed start held is free again, and a right name starts").isTrue();
    }
  }

  @Test
  void aConfigGivenWithTheLoadReplacesConfigPbtxtUntilTheNextLoadWithoutOne() throws Exception {
    new ModelRepositoryWriter(repo).model("m", 1, Mlp.seeded(4, 2, 1).onnx()).config("m", "max_batch_size: 8\n");
    try (TestServer server = TestServer.start(explicitAll())) {
      admin(server, TOKEN).repositoryModelLoad(loadWithConfig("m",
          "{\"max_batch_size\": 2, \"instance_group\": [{\"count\": 3, \"kind\": \"KIND_CPU\"}]}"));

      assertThat(config(server, "m").getMaxBatchSize()).isEqualTo(2);
      assertThat(config(server, "m").getInstanceGroup(0).getCount()).isEqualTo(3);
      assertThatThrownBy(() -> server.blocking().modelInfer(rawFp32("m", "", "x", new float[12], 3, 4)))
          .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getDescription())
              .contains("batch size 3", "2"));

      for (String bad : List.of("{\"max_batch_size\": \"many\"}", "{\"maxBatchSizes\": 2}", "not json",
          "{\"name\": \"other\"}")) {
        assertThatThrownBy(() -> admin(server, TOKEN).repositoryModelLoad(loadWithConfig("m", bad)))
            .as(bad).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
              assertThat(e.getStatus().getDescription()).contains("model 'm'", "config");
            });
      }
      assertThat(config(server, "m").getMaxBatchSize()).as("refused configs changed nothing").isEqualTo(2);

      admin(server, TOKEN).repositoryModelUnload(RepositoryModelUnloadRequest.newBuilder().setModelName("m").build());
      admin(server, TOKEN).repositoryModelLoad(RepositoryModelLoadRequest.newBuilder().setModelName("m").build());
      assertThat(config(server, "m").getMaxBatchSize()).as("a plain load reads config.pbtxt again").isEqualTo(8);
      assertThat(server.blocking().modelInfer(rawFp32("m", "", "x", new float[12], 3, 4)).getOutputsCount()).isEqualTo(1);
    }
  }

  @Test
  void aConfigThatDoesNotLoadLeavesTheServingConfigInPlace() throws Exception {
    new ModelRepositoryWriter(repo).model("m", 1, Mlp.seeded(4, 2, 1).onnx()).config("m", "max_batch_size: 8\n");
    try (TestServer server = TestServer.start(explicitAll())) {
      admin(server, TOKEN).repositoryModelLoad(loadWithConfig("m", "{\"max_batch_size\": 4}"));

      assertThatThrownBy(() -> admin(server, TOKEN).repositoryModelLoad(loadWithConfig("m",
          "{\"max_batch_size\": 4, \"input\": [{\"name\": \"nope\", \"data_type\": \"TYPE_FP32\", \"dims\": [4]}]}")))
          .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getDescription())
              .contains("nope"));

      assertThat(config(server, "m").getMaxBatchSize()).isEqualTo(4);
      admin(server, TOKEN).repositoryModelLoad(loadWithConfig("m", "{\"max_batch_size\": 4, \"instance_group\": "
          + "[{\"count\": 2}]}"));
      assertThat(config(server, "m").getInstanceGroup(0).getCount()).isEqualTo(2);
    }
  }

  private ServerConfig explicitAll() {
    return ServerConfig.loopback(repo).withControl(ModelControl.explicit(Set.of("*"))).withAdminToken(TOKEN);
  }

  private static GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub admin(TestServer server, String token) {
    return TestServer.bearer(server.blocking(), token);
  }

  @Test
  void loadingAndUnloadingNeedTheAdminCredentialByDefault() throws Exception {
    new ModelRepositoryWriter(repo).model("m", 1, Mlp.seeded(4, 2, 1).onnx()).config("m", "max_batch_size: 8\n");
    RepositoryModelLoadRequest load = RepositoryModelLoadRequest.newBuilder().setModelName("m").build();
    RepositoryModelUnloadRequest unload = RepositoryModelUnloadRequest.newBuilder().setModelName("m").build();
    try (TestServer server = TestServer.start(explicitAll())) {
      for (var stub : List.of(server.blocking(), admin(server, "not-the-token-0123456789"))) {
        assertThatThrownBy(() -> stub.repositoryModelUnload(unload)).isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
              assertThat(e.getStatus().getDescription()).contains("loading and unloading models needs the admin credential",
                  "authorization: Bearer", "or open them", "--repository-api open");
            });
        assertThatThrownBy(() -> stub.repositoryModelLoad(load)).isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
      }
      assertThat(server.blocking().modelReady(ModelReadyRequest.newBuilder().setName("m").build()).getReady())
          .as("refused calls changed nothing").isTrue();
      assertThat(server.blocking().repositoryIndex(RepositoryIndexRequest.getDefaultInstance()).getModelsCount())
          .as("reading the index needs no credential").isEqualTo(1);
      admin(server, TOKEN).repositoryModelUnload(unload);
      assertThat(server.blocking().modelReady(ModelReadyRequest.newBuilder().setName("m").build()).getReady()).isFalse();
    }
    // Without any credential configured nobody may, unless the operator opens the API.
    try (TestServer server = TestServer.start(ServerConfig.loopback(repo).withControl(ModelControl.explicit(Set.of("*"))))) {
      assertThatThrownBy(() -> server.blocking().repositoryModelUnload(unload))
          .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
            assertThat(e.getStatus().getDescription()).contains("the server has none", "--admin-token-file");
          });
    }
    try (TestServer server = TestServer.start(ServerConfig.loopback(repo).withControl(ModelControl.explicit(Set.of("*")))
        .withOpenRepositoryApi())) {
      server.blocking().repositoryModelUnload(unload);
      assertThat(server.blocking().modelReady(ModelReadyRequest.newBuilder().setName("m").build()).getReady()).isFalse();
    }
  }

  @Test
  void statisticsCountRequestsRowsAndExecutions() throws Exception {
    new ModelRepositoryWriter(repo).model("m", 1, Mlp.seeded(4, 2, 1).onnx()).config("m", "max_batch_size: 8\n");
    try (TestServer server = TestServer.start(repo)) {
      int[] batches = {1, 1, 3, 5};
      for (int rows : batches) {
        server.blocking().modelInfer(rawFp32("m", "1", "x", new float[rows * 4], rows, 4));
      }
      assertThatThrownBy(() -> server.blocking().modelInfer(rawFp32("m", "1", "x", new float[4], 1, 3)))
          .isInstanceOf(StatusRuntimeException.class);

      ModelStatistics s = server.blocking().modelStatistics(ModelStatisticsRequest.newBuilder().setName("m").build())
          .getModelStats(0);
      assertThat(s.getName()).isEqualTo("m");
      assertThat(s.getVersion()).isEqualTo("1");
      assertThat(s.getInferenceCount()).as("rows").isEqualTo(10);
      assertThat(s.getExecutionCount()).isEqualTo(4);
      assertThat(s.getLastInference()).isPositive();
      assertThat(s.getInferenceStats().getSuccess().getCount()).isEqualTo(4);
      assertThat(s.getInferenceStats().getSuccess().getNs()).isPositive();
      assertThat(s.getInferenceStats().getFail().getCount()).isEqualTo(1);
      assertThat(s.getInferenceStats().getQueue().getCount()).isEqualTo(4);
      assertThat(s.getInferenceStats().getComputeInfer().getCount()).isEqualTo(4);
      assertThat(s.getInferenceStats().getComputeInfer().getNs()).isPositive();
      assertThat(s.getBatchStatsList()).extracting(InferBatchStatistics::getBatchSize).containsExactly(1L, 3L, 5L);
      assertThat(s.getBatchStatsList()).extracting(b -> b.getComputeInfer().getCount()).containsExactly(2L, 1L, 1L);
    }
  }

  @Test
  void modelConfigOfAnInferredConfig() throws Exception {
    new ModelRepositoryWriter(repo).model("plain", 1, Mlp.seeded(4, 2, 1).onnx());
    try (TestServer server = TestServer.start(repo)) {
      ModelConfig c = server.blocking().modelConfig(ModelConfigRequest.newBuilder().setName("plain").build()).getConfig();
      assertThat(c.getName()).isEqualTo("plain");
      assertThat(c.getBackend()).isEqualTo("onnxruntime");
      assertThat(c.getPlatform()).isEqualTo("onnxruntime_onnx");
      assertThat(c.getMaxBatchSize()).isEqualTo(4);
      assertThat(c.getInput(0).getName()).isEqualTo("x");
      assertThat(c.getInput(0).getDataType()).isEqualTo(DataType.TYPE_FP32);
      assertThat(c.getInput(0).getDimsList()).containsExactly(4L);
      assertThat(c.getOutput(0).getDimsList()).containsExactly(2L);
    }
  }
}
