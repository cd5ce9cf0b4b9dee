package io.junction.server.device;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.TextFormat;
import io.junction.proto.inference.ModelConfig;
import io.junction.proto.inference.ModelInstanceGroup;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.Test;

/** Where instance groups put a model, as Triton places them. */
class InstancePlacementTest {
  private static final Set<DeviceId> TWO_GPUS = Set.of(DeviceId.CPU, DeviceId.gpu(0), DeviceId.gpu(1));
  private static final Set<DeviceId> CPU_ONLY = Set.of(DeviceId.CPU);
  private static final Set<DeviceId.Kind> ANY = Set.of(DeviceId.Kind.CPU, DeviceId.Kind.GPU);
  private static final Set<DeviceId.Kind> CPU_BACKEND = Set.of(DeviceId.Kind.CPU);

  private static List<ModelInstanceGroup> groups(String text) throws Exception {
    ModelConfig.Builder b = ModelConfig.newBuilder();
    TextFormat.merge(text, b);
    return b.getInstanceGroupList();
  }

  private static Map<DeviceId, Integer> place(String groups, Set<DeviceId> devices, Set<DeviceId.Kind> kinds)
      throws Exception {
    return InstancePlacement.of("model 'm' version 1", groups(groups), devices, kinds, "b").instances();
  }

  @Test
  void gpuGroupsPutCountInstancesOnEachListedGpu() throws Exception {
    assertThat(place("instance_group [ { kind: KIND_GPU gpus: [ 0, 1 ] count: 2 } ]", TWO_GPUS, ANY))
        .containsExactly(Map.entry(DeviceId.gpu(0), 2), Map.entry(DeviceId.gpu(1), 2));
    assertThat(place("instance_group [ { kind: KIND_GPU gpus: [ 1 ] } ]", TWO_GPUS, ANY))
        .containsExactly(Map.entry(DeviceId.gpu(1), 1));
    assertThat(place("instance_group [ { kind: KIND_GPU count: 3 } ]", TWO_GPUS, ANY))
        .as("no gpus: count on every GPU").containsExactly(Map.entry(DeviceId.gpu(0), 3), Map.entry(DeviceId.gpu(1), 3));
  }

  @Test
  void groupsAddUpPerDevice() throws Exception {
    assertThat(place("instance_group [ { kind: KIND_GPU gpus: [ 0 ] count: 1 }, { kind: KIND_GPU gpus: [ 0, 1 ] count: 2 },"
        + " { kind: KIND_CPU count: 2 } ]", TWO_GPUS, ANY))
        .containsExactly(Map.entry(DeviceId.CPU, 2), Map.entry(DeviceId.gpu(0), 3), Map.entry(DeviceId.gpu(1), 2));
  }

  @Test
  void autoAndNoGroupUseGpusWhereTheBackendCanElseTheCpu() throws Exception {
    assertThat(place("", TWO_GPUS, ANY)).containsExactly(Map.entry(DeviceId.gpu(0), 1), Map.entry(DeviceId.gpu(1), 1));
    assertThat(place("instance_group [ { count: 2 } ]", TWO_GPUS, ANY))
        .as("KIND_AUTO is the default kind").containsExactly(Map.entry(DeviceId.gpu(0), 2), Map.entry(DeviceId.gpu(1), 2));
    assertThat(place("", TWO_GPUS, CPU_BACKEND)).containsExactly(Map.entry(DeviceId.CPU, 1));
    assertThat(place("instance_group [ { count: 2 } ]", CPU_ONLY, ANY)).containsExactly(Map.entry(DeviceId.CPU, 2));
  }

  @Test
  void aGpuThatIsNotThereIsAReasonNeverTheCpu() {
    assertThatThrownBy(() -> place("instance_group [ { name: \"g\" kind: KIND_GPU gpus: [ 2 ] } ]", TWO_GPUS, ANY))
        .isInstanceOf(InstancePlacement.UnplaceableException.class)
        .hasMessage("model 'm' version 1: instance_group 'g' asks for GPU 2, which this server does not have "
            + "(devices: [cpu, gpu:0, gpu:1])");
    assertThatThrownBy(() -> place("instance_group [ { kind: KIND_GPU } ]", CPU_ONLY, ANY))
        .hasMessageContaining("asks for KIND_GPU, but this server has no GPU").hasMessageContaining("not run on the CPU");
    assertThatThrownBy(() -> place("instance_group [ { kind: KIND_GPU gpus: [ 0 ] } ]", TWO_GPUS, CPU_BACKEND))
        .hasMessageContaining("backend 'b' runs models on the CPU only");
    assertThatThrownBy(() -> place("instance_group [ { kind: KIND_GPU gpus: [ -1 ] } ]", TWO_GPUS, ANY))
        .hasMessageContaining("asks for GPU -1");
  }

  @Test
  void thePlacementReadsBackAsGroups() throws Exception {
    InstancePlacement p = InstancePlacement.of("m", groups("instance_group [ { kind: KIND_GPU count: 2 },"
        + " { kind: KIND_CPU count: 1 } ]"), TWO_GPUS, ANY, "b");
    assertThat(p.total()).isEqualTo(5);
    assertThat(p.asGroups()).extracting(ModelInstanceGroup::getKind, ModelInstanceGroup::getCount,
            ModelInstanceGroup::getGpusList)
        .containsExactly(Tuple.tuple(ModelInstanceGroup.Kind.KIND_CPU, 1, List.of()),
            Tuple.tuple(ModelInstanceGroup.Kind.KIND_GPU, 2, List.of(0, 1)));
  }

  @Test
  void devicesParseAndPrintAsOnTheCommandLine() {
    assertThat(DeviceId.parse("gpu:3")).isEqualTo(DeviceId.gpu(3));
    assertThat(DeviceId.parse(" CPU ")).isEqualTo(DeviceId.CPU);
    assertThat(DeviceId.gpu(1)).hasToString("gpu:1");
    assertThatThrownBy(() -> DeviceId.parse("gpu:x")).hasMessage("a device is cpu or gpu:N (N = 0, 1, ...), got 'gpu:x'");
    assertThatThrownBy(() -> DeviceId.parse("tpu:0")).isInstanceOf(IllegalArgumentException.class);
  }
}
