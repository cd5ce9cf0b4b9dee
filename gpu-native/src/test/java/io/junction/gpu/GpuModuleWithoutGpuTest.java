package io.junction.gpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.junction.proto.inference.GRPCInferenceServiceGrpc;
import io.junction.proto.inference.InferTensorContents;
import io.junction.proto.inference.ModelInferRequest;
import io.junction.proto.inference.RepositoryIndexRequest;
import io.junction.proto.inference.RepositoryIndexResponse.ModelIndex;
import io.junction.server.JunctionServer;
import io.junction.server.backend.BackendRegistry;
import io.junction.server.backend.ModelLoadException;
import io.junction.server.backend.ModelLoadRequest;
import io.junction.server.device.Device;
import io.junction.server.device.DeviceId;
import io.junction.server.config.ServerConfig;
import io.junction.server.scheduling.DeviceRegistry;
import io.junction.server.telemetry.Telemetry;
import io.junction.testkit.DemoRepository;
import io.junction.testkit.ModelRepositoryWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The module on the class path of a machine without a GPU (CI): it is found, costs a log line, and the
 * server serves on the CPU; a TensorRT model fails alone, with the reason.
 */
class GpuModuleWithoutGpuTest {
  @TempDir Path dir;

  @Test
  void theServerFindsTheModuleAndItsDiscoveryFailsIntoALogLine() {
    assertThat(BackendRegistry.discover().backends()).extracting(b -> b.name()).contains("tensorrt", "onnxruntime");
    List<Device> devices = DeviceRegistry.discover(getClass().getClassLoader(), new PrometheusRegistry());
    assertThat(devices).as("no CUDA here: the discovery failed, softly").noneMatch(d -> d.id().isGpu());
  }

  @Test
  void aServerWithTheModuleServesOnTheCpuAndAPlanModelFailsWithItsReason() throws Exception {
    Path repo = DemoRepository.write(dir.resolve("repo"));
    new ModelRepositoryWriter(repo).file("engine", "1/model.plan", "not an engine".getBytes(StandardCharsets.UTF_8))
        .config("engine", """
            platform: "tensorrt_plan"
            max_batch_size: 8
            input [ { name: "x", data_type: TYPE_FP32, dims: [ 8 ] } ]
            output [ { name: "y", data_type: TYPE_FP32, dims: [ 4 ] } ]
            instance_group [ { kind: KIND_GPU gpus: [ 0 ] } ]
            """);
    try (JunctionServer server = new JunctionServer(ServerConfig.loopback(repo), BackendRegistry.discover(),
        Telemetry.disabled()).start()) {
      ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext().build();
      try {
        var stub = GRPCInferenceServiceGrpc.newBlockingStub(channel);
        var answer = stub.modelInfer(ModelInferRequest.newBuilder().setModelName("mlp")
            .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("x").setDatatype("FP32").addShape(1)
                .addShape(8).setContents(InferTensorContents.newBuilder()
                    .addAllFp32Contents(Collections.nCopies(8, 0.5f))))
            .build());
        assertThat(answer.getOutputsCount()).isEqualTo(1);
        ModelIndex engine = stub.repositoryIndex(RepositoryIndexRequest.getDefaultInstance()).getModelsList().stream()
            .filter(m -> m.getName().equals("engine")).findFirst().orElseThrow();
        assertThat(engine.getState()).isEqualTo("UNAVAILABLE");
        assertThat(engine.getReason()).contains("asks for GPU 0, which this server does not have");
      } finally {
        channel.shutdownNow();
      }
    }
  }

  @Test
  void loadingAPlanWithoutTheNativeLibrariesIsALoadFailureNotACrash() throws Exception {
    Path plan = Files.writeString(dir.resolve("model.plan"), "not an engine");
    TensorRtBackend backend = new TensorRtBackend();

    assertThatThrownBy(() -> backend.load(new ModelLoadRequest("engine", 1, plan, Optional.empty(), DeviceId.gpu(0))))
        .isInstanceOf(ModelLoadException.class)
        .hasMessageStartingWith("model 'engine' version 1 on gpu:0: ");
    assertThatThrownBy(() -> backend.load(new ModelLoadRequest("engine", 1, plan, Optional.empty(), DeviceId.CPU)))
        .isInstanceOf(ModelLoadException.class).hasMessageContaining("TensorRT engines run on GPUs");
  }

  @Test
  void tensorRtTypesMapToTheProtocolsOrAreRefused() {
    assertThat(TensorRtTypes.toDataType(org.bytedeco.tensorrt.global.nvinfer.DataType.kHALF))
        .contains(io.junction.server.tensor.DataType.FP16);
    assertThat(TensorRtTypes.toDataType(org.bytedeco.tensorrt.global.nvinfer.DataType.kFP8)).isEmpty();
  }
}
