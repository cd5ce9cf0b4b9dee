package io.junction.server.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class ModelRecordTest {
  @Test
  void failuresNameEachVersionOnce() {
    TreeMap<Long, VersionStatus> versions = new TreeMap<>();
    versions.put(1L, VersionStatus.failed(1, "model 'm' version 1: ONNX Runtime cannot load model.onnx"));
    versions.put(2L, VersionStatus.failed(2, "no model file a backend recognises"));
    ModelRecord record = new ModelRecord("m", Optional.empty(), versions, "files");

    assertThat(record.failures()).isEqualTo(
        "model 'm' version 1: ONNX Runtime cannot load model.onnx; model 'm' version 2: no model file a backend recognises");
  }

  @Test
  void aFailureOfTheModelAsAWholeIsItsOwnAccount() {
    ModelRecord record = ModelRecord.failed("m", "model 'm': config.pbtxt is not valid", "files");

    assertThat(record.failures()).isEqualTo("model 'm': config.pbtxt is not valid");
  }

  @Test
  void aReasonThatDoesNotNameTheModelIsGivenItsName() {
    ModelRecord record = ModelRecord.failed("m", "no version directory", "files");

    assertThat(record.failures()).isEqualTo("model 'm': no version directory");
  }
}
