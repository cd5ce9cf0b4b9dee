package io.junction.server.protocol;

import io.junction.proto.inference.InferBatchStatistics;
import io.junction.proto.inference.InferStatistics;
import io.junction.proto.inference.ModelMetadataResponse;
import io.junction.proto.inference.ModelMetadataResponse.TensorMetadata;
import io.junction.proto.inference.ModelStatistics;
import io.junction.proto.inference.RepositoryIndexResponse.ModelIndex;
import io.junction.proto.inference.StatisticDuration;
import io.junction.server.model.ModelIndexEntry;
import io.junction.server.model.ModelStats;
import io.junction.server.model.ServedModel;
import io.junction.server.model.ServingSignature;
import io.junction.server.model.ServingTensor;
import java.util.List;

/** Domain snapshots to protocol messages, for the RPCs that only describe the server. */
public final class ProtoMapper {
  private ProtoMapper() {}

  /** @param name the name asked for: the model's, or a route's that it serves */
  public static ModelMetadataResponse metadata(String name, ServedModel model, List<ServedModel> readyVersions) {
    ServingSignature signature = model.signature();
    ModelMetadataResponse.Builder b = ModelMetadataResponse.newBuilder()
        .setName(name)
        .setPlatform(model.config().getPlatform());
    readyVersions.forEach(v -> b.addVersions(Long.toString(v.version())));
    signature.inputs().forEach(t -> b.addInputs(tensor(signature, t)));
    signature.outputs().forEach(t -> b.addOutputs(tensor(signature, t)));
    return b.build();
  }

  private static TensorMetadata tensor(ServingSignature signature, ServingTensor t) {
    TensorMetadata.Builder m = TensorMetadata.newBuilder().setName(t.name()).setDatatype(t.dataType().wireName());
    for (long d : signature.exposedShape(t)) {
      m.addShape(d);
    }
    return m.build();
  }

  public static ModelStatistics statistics(ServedModel model) {
    ModelStats.Snapshot s = model.stats().snapshot();
    ModelStatistics.Builder b = ModelStatistics.newBuilder()
        .setName(model.name())
        .setVersion(Long.toString(model.version()))
        .setLastInference(s.lastInferenceMillis())
        .setInferenceCount(s.inferenceCount())
        .setExecutionCount(s.executionCount())
        .setInferenceStats(InferStatistics.newBuilder()
            .setSuccess(duration(s.success()))
            .setFail(duration(s.fail()))
            .setQueue(duration(s.queue()))
            .setComputeInput(duration(s.computeInput()))
            .setComputeInfer(duration(s.computeInfer()))
            .setComputeOutput(duration(s.computeOutput()))
            .setCacheHit(duration(s.cacheHit()))
            .setCacheMiss(duration(s.cacheMiss())));
    s.batches().values().forEach(batch -> b.addBatchStats(InferBatchStatistics.newBuilder()
        .setBatchSize(batch.batchSize())
        .setComputeInput(duration(batch.computeInput()))
        .setComputeInfer(duration(batch.computeInfer()))
        .setComputeOutput(duration(batch.computeOutput()))));
    return b.build();
  }

  public static ModelIndex index(ModelIndexEntry e) {
    return ModelIndex.newBuilder().setName(e.name()).setVersion(e.version()).setState(e.state().name())
        .setReason(e.reason()).build();
  }

  private static StatisticDuration duration(ModelStats.Duration d) {
    return StatisticDuration.newBuilder().setCount(d.count()).setNs(d.nanos()).build();
  }
}
