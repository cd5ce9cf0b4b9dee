package io.junction.server.model;

import io.junction.proto.inference.ModelConfig;
import io.junction.proto.inference.ModelInput;
import io.junction.proto.inference.ModelInstanceGroup;
import io.junction.proto.inference.ModelOptimizationPolicy;
import io.junction.proto.inference.ModelOutput;
import java.util.ArrayList;
import java.util.List;

/**
 * The fields of Triton's model configuration that Junction parses but does nothing with, as a config sets them.
 * A repository written for Triton loads all the same; what it asked for and does not get (a rate limiter, passive
 * instances, decoupled responses, ...) is said once when the version loads, not left for its users to find.
 */
final class UnusedConfigFields {
  private UnusedConfigFields() {}

  /** The unused fields {@code config} sets, as paths ("metric_tags", "input[x].allow_ragged_batch"). */
  static List<String> in(ModelConfig config) {
    List<String> unused = new ArrayList<>();
    if (config.getModelTransactionPolicy().getDecoupled()) {
      unused.add("model_transaction_policy.decoupled");
    }
    if (config.getModelOperations().getOpLibraryFilenameCount() > 0) {
      unused.add("model_operations.op_library_filename");
    }
    if (config.getMetricTagsCount() > 0) {
      unused.add("metric_tags");
    }
    if (config.getCcModelFilenamesCount() > 0) {
      unused.add("cc_model_filenames");
    }
    // dynamic_batching.preserve_ordering is not here: a ModelStreamInfer stream always answers in its requests'
    // order, and a unary call has only its own answer.
    ModelOptimizationPolicy optimization = config.getOptimization();
    if (optimization.hasCuda()) {
      unused.add("optimization.cuda");
    }
    if (optimization.getPriority() != ModelOptimizationPolicy.ModelPriority.PRIORITY_DEFAULT) {
      unused.add("optimization.priority");
    }
    if (optimization.hasInputPinnedMemory() || optimization.hasOutputPinnedMemory()) {
      unused.add("optimization.input_pinned_memory/output_pinned_memory");
    }
    if (optimization.getGatherKernelBufferThreshold() != 0) {
      unused.add("optimization.gather_kernel_buffer_threshold");
    }
    if (optimization.getEagerBatching()) {
      unused.add("optimization.eager_batching");
    }
    for (ModelInstanceGroup group : config.getInstanceGroupList()) {
      String where = "instance_group[" + (group.getName().isEmpty() ? group.getKind().name() : group.getName()) + "].";
      if (group.hasRateLimiter()) {
        unused.add(where + "rate_limiter");
      }
      if (group.getPassive()) {
        unused.add(where + "passive");
      }
      if (group.getSecondaryDevicesCount() > 0) {
        unused.add(where + "secondary_devices");
      }
      if (group.getProfileCount() > 0) {
        unused.add(where + "profile");
      }
      if (!group.getHostPolicy().isEmpty()) {
        unused.add(where + "host_policy");
      }
    }
    for (ModelInput input : config.getInputList()) {
      String where = "input[" + input.getName() + "].";
      if (input.getAllowRaggedBatch()) {
        unused.add(where + "allow_ragged_batch");
      }
      if (input.getIsShapeTensor()) {
        unused.add(where + "is_shape_tensor");
      }
      if (input.getIsNonLinearFormatIo()) {
        unused.add(where + "is_non_linear_format_io");
      }
    }
    for (ModelOutput output : config.getOutputList()) {
      String where = "output[" + output.getName() + "].";
      if (output.getIsShapeTensor()) {
        unused.add(where + "is_shape_tensor");
      }
      if (output.getIsNonLinearFormatIo()) {
        unused.add(where + "is_non_linear_format_io");
      }
    }
    return unused;
  }
}
