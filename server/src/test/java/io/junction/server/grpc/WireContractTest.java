package io.junction.server.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import io.junction.proto.inference.GRPCInferenceServiceGrpc;
import io.junction.proto.inference.GrpcServiceProto;
import io.junction.proto.inference.ModelConfigProto;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Wire compatibility with the public Open Inference Protocol and Triton's protos: every field below
 * (message, name, number, type) was taken from the published specifications. Renaming or renumbering
 * one breaks existing clients, so it breaks this test first.
 */
class WireContractTest {
  @ParameterizedTest(name = "{0}.{1} = {2}")
  @CsvSource({
      "ServerLiveResponse, live, 1, BOOL",
      "ServerReadyResponse, ready, 1, BOOL",
      "ModelReadyRequest, name, 1, STRING", "ModelReadyRequest, version, 2, STRING",
      "ServerMetadataResponse, name, 1, STRING", "ServerMetadataResponse, version, 2, STRING",
      "ServerMetadataResponse, extensions, 3, STRING",
      "ModelMetadataResponse, name, 1, STRING", "ModelMetadataResponse, versions, 2, STRING",
      "ModelMetadataResponse, platform, 3, STRING", "ModelMetadataResponse, inputs, 4, MESSAGE",
      "ModelMetadataResponse, outputs, 5, MESSAGE",
      "ModelMetadataResponse.TensorMetadata, name, 1, STRING", "ModelMetadataResponse.TensorMetadata, datatype, 2, STRING",
      "ModelMetadataResponse.TensorMetadata, shape, 3, INT64",
      "InferParameter, bool_param, 1, BOOL", "InferParameter, int64_param, 2, INT64",
      "InferParameter, string_param, 3, STRING", "InferParameter, double_param, 4, DOUBLE",
      "InferParameter, uint64_param, 5, UINT64",
      "InferTensorContents, bool_contents, 1, BOOL", "InferTensorContents, int_contents, 2, INT32",
      "InferTensorContents, int64_contents, 3, INT64", "InferTensorContents, uint_contents, 4, UINT32",
      "InferTensorContents, uint64_contents, 5, UINT64", "InferTensorContents, fp32_contents, 6, FLOAT",
      "InferTensorContents, fp64_contents, 7, DOUBLE", "InferTensorContents, bytes_contents, 8, BYTES",
      "ModelInferRequest, model_name, 1, STRING", "ModelInferRequest, model_version, 2, STRING",
      "ModelInferRequest, id, 3, STRING", "ModelInferRequest, parameters, 4, MESSAGE",
      "ModelInferRequest, inputs, 5, MESSAGE", "ModelInferRequest, outputs, 6, MESSAGE",
      "ModelInferRequest, raw_input_contents, 7, BYTES",
      "ModelInferRequest.InferInputTensor, name, 1, STRING", "ModelInferRequest.InferInputTensor, datatype, 2, STRING",
      "ModelInferRequest.InferInputTensor, shape, 3, INT64", "ModelInferRequest.InferInputTensor, parameters, 4, MESSAGE",
      "ModelInferRequest.InferInputTensor, contents, 5, MESSAGE",
      "ModelInferRequest.InferRequestedOutputTensor, name, 1, STRING",
      "ModelInferRequest.InferRequestedOutputTensor, parameters, 2, MESSAGE",
      "ModelInferResponse, model_name, 1, STRING", "ModelInferResponse, model_version, 2, STRING",
      "ModelInferResponse, id, 3, STRING", "ModelInferResponse, parameters, 4, MESSAGE",
      "ModelInferResponse, outputs, 5, MESSAGE", "ModelInferResponse, raw_output_contents, 6, BYTES",
      "ModelInferResponse.InferOutputTensor, name, 1, STRING", "ModelInferResponse.InferOutputTensor, datatype, 2, STRING",
      "ModelInferResponse.InferOutputTensor, shape, 3, INT64", "ModelInferResponse.InferOutputTensor, contents, 5, MESSAGE",
      "ModelStreamInferResponse, error_message, 1, STRING", "ModelStreamInferResponse, infer_response, 2, MESSAGE",
      "ModelConfigResponse, config, 1, MESSAGE",
      "LogSettingsRequest, settings, 1, MESSAGE", "LogSettingsResponse, settings, 1, MESSAGE",
      "LogSettingsRequest.SettingValue, bool_param, 1, BOOL", "LogSettingsRequest.SettingValue, uint32_param, 2, UINT32",
      "LogSettingsRequest.SettingValue, string_param, 3, STRING",
      "LogSettingsResponse.SettingValue, bool_param, 1, BOOL", "LogSettingsResponse.SettingValue, uint32_param, 2, UINT32",
      "LogSettingsResponse.SettingValue, string_param, 3, STRING",
      "StatisticDuration, count, 1, UINT64", "StatisticDuration, ns, 2, UINT64",
      "InferStatistics, success, 1, MESSAGE", "InferStatistics, fail, 2, MESSAGE", "InferStatistics, queue, 3, MESSAGE",
      "InferStatistics, compute_input, 4, MESSAGE", "InferStatistics, compute_infer, 5, MESSAGE",
      "InferStatistics, compute_output, 6, MESSAGE", "InferStatistics, cache_hit, 7, MESSAGE",
      "InferBatchStatistics, batch_size, 1, UINT64", "InferBatchStatistics, compute_input, 2, MESSAGE",
      "InferBatchStatistics, compute_infer, 3, MESSAGE", "InferBatchStatistics, compute_output, 4, MESSAGE",
      "ModelStatistics, name, 1, STRING", "ModelStatistics, version, 2, STRING",
      "ModelStatistics, last_inference, 3, UINT64", "ModelStatistics, inference_count, 4, UINT64",
      "ModelStatistics, execution_count, 5, UINT64", "ModelStatistics, inference_stats, 6, MESSAGE",
      "ModelStatistics, batch_stats, 7, MESSAGE",
      "ModelStatisticsResponse, model_stats, 1, MESSAGE",
      "RepositoryIndexRequest, repository_name, 1, STRING", "RepositoryIndexRequest, ready, 2, BOOL",
      "RepositoryIndexResponse.ModelIndex, name, 1, STRING", "RepositoryIndexResponse.ModelIndex, version, 2, STRING",
      "RepositoryIndexResponse.ModelIndex, state, 3, STRING", "RepositoryIndexResponse.ModelIndex, reason, 4, STRING",
      "RepositoryModelLoadRequest, repository_name, 1, STRING", "RepositoryModelLoadRequest, model_name, 2, STRING",
      "RepositoryModelLoadRequest, parameters, 3, MESSAGE",
      "RepositoryModelUnloadRequest, model_name, 2, STRING",
      "ModelRepositoryParameter, bytes_param, 4, BYTES",
  })
  void inferenceServiceFields(String message, String field, int number, FieldDescriptor.Type type) {
    assertField(GrpcServiceProto.getDescriptor().findMessageTypeByName(message.split("\\.")[0]), message, field,
        number, type);
  }

  @ParameterizedTest(name = "{0}.{1} = {2}")
  @CsvSource({
      "ModelConfig, name, 1, STRING", "ModelConfig, platform, 2, STRING", "ModelConfig, backend, 17, STRING",
      "ModelConfig, version_policy, 3, MESSAGE", "ModelConfig, max_batch_size, 4, INT32",
      "ModelConfig, input, 5, MESSAGE", "ModelConfig, output, 6, MESSAGE", "ModelConfig, instance_group, 7, MESSAGE",
      "ModelConfig, default_model_filename, 8, STRING", "ModelConfig, dynamic_batching, 11, MESSAGE",
      "ModelConfig, parameters, 14, MESSAGE", "ModelConfig, model_warmup, 16, MESSAGE",
      "ModelInput, name, 1, STRING", "ModelInput, data_type, 2, ENUM", "ModelInput, format, 3, ENUM",
      "ModelInput, dims, 4, INT64", "ModelInput, reshape, 5, MESSAGE", "ModelInput, optional, 8, BOOL",
      "ModelOutput, name, 1, STRING", "ModelOutput, data_type, 2, ENUM", "ModelOutput, dims, 3, INT64",
      "ModelOutput, label_filename, 4, STRING",
      "ModelInstanceGroup, name, 1, STRING", "ModelInstanceGroup, count, 2, INT32", "ModelInstanceGroup, gpus, 3, INT32",
      "ModelInstanceGroup, kind, 4, ENUM",
      "ModelDynamicBatching, preferred_batch_size, 1, INT32",
      "ModelDynamicBatching, max_queue_delay_microseconds, 2, UINT64",
      "ModelDynamicBatching, priority_levels, 4, UINT64", "ModelDynamicBatching, default_priority_level, 5, UINT64",
      "ModelDynamicBatching, default_queue_policy, 6, MESSAGE",
      "ModelQueuePolicy, timeout_action, 1, ENUM", "ModelQueuePolicy, default_timeout_microseconds, 2, UINT64",
      "ModelQueuePolicy, allow_timeout_override, 3, BOOL", "ModelQueuePolicy, max_queue_size, 4, UINT32",
      "ModelVersionPolicy, latest, 1, MESSAGE", "ModelVersionPolicy, all, 2, MESSAGE",
      "ModelVersionPolicy, specific, 3, MESSAGE",
  })
  void modelConfigFields(String message, String field, int number, FieldDescriptor.Type type) {
    assertField(ModelConfigProto.getDescriptor().findMessageTypeByName(message), message, field, number, type);
  }

  @Test
  void serviceAndPackageNames() {
    assertThat(GRPCInferenceServiceGrpc.SERVICE_NAME).isEqualTo("inference.GRPCInferenceService");
    assertThat(GrpcServiceProto.getDescriptor().getPackage()).isEqualTo("inference");
    assertThat(GrpcServiceProto.getDescriptor().findServiceByName("GRPCInferenceService").getMethods())
        .extracting(m -> m.getName())
        .containsAll(List.of("ServerLive", "ServerReady", "ModelReady", "ServerMetadata", "ModelMetadata",
            "ModelInfer", "ModelStreamInfer", "ModelConfig", "ModelStatistics", "RepositoryIndex",
            "RepositoryModelLoad", "RepositoryModelUnload", "LogSettings"));
    assertThat(ModelConfigProto.getDescriptor().findEnumTypeByName("DataType").findValueByName("TYPE_STRING")
        .getNumber()).isEqualTo(13);
    assertThat(ModelConfigProto.getDescriptor().findEnumTypeByName("DataType").findValueByName("TYPE_BF16")
        .getNumber()).isEqualTo(14);
  }

  private static void assertField(Descriptor top, String message, String field, int number, FieldDescriptor.Type type) {
    Descriptor d = top;
    String[] path = message.split("\\.");
    for (int i = 1; i < path.length; i++) {
      d = d.findNestedTypeByName(path[i]);
    }
    assertThat(d).as(message).isNotNull();
    FieldDescriptor f = d.findFieldByName(field);
    assertThat(f).as(message + "." + field).isNotNull();
    assertThat(f.getNumber()).as(message + "." + field).isEqualTo(number);
    assertThat(f.getType()).as(message + "." + field).isEqualTo(type);
  }
}
