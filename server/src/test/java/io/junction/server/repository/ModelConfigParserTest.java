package io.junction.server.repository;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.TextFormat;
import io.junction.proto.inference.ModelConfig;
import io.junction.server.backend.ModelLoadException;
import org.junit.jupiter.api.Test;

class ModelConfigParserTest {
  private static final String WITH_UNKNOWN_FIELDS = """
      max_batch_size: 8
      rate_limiter_typo { priority: 2 }
      input [ { name: "x", data_type: TYPE_FP32, dims: [ 8 ], ragged: true } ]
      """;

  @Test
  void unknownFieldsAreSkippedAndTheRestIsRead() throws Exception {
    ModelConfig config = new ModelConfigParser().parse("m", WITH_UNKNOWN_FIELDS);

    assertThat(config.getMaxBatchSize()).isEqualTo(8);
    assertThat(config.getInput(0).getDimsList()).containsExactly(8L);
  }

  @Test
  void theWarningNamesEveryUnknownFieldOnOneLine() {
    // protobuf's own strict error, whose format the warning is built from.
    assertThatThrownBy(() -> TextFormat.Parser.newBuilder().build().merge(WITH_UNKNOWN_FIELDS, ModelConfig.newBuilder()))
        .isInstanceOfSatisfying(TextFormat.ParseException.class, e ->
            assertThat(ModelConfigParser.unknownFields(e.getMessage()))
                .contains("inference.ModelConfig.rate_limiter_typo", "inference.ModelInput.ragged", ", ")
                .doesNotContain("\n"));
    assertThat(ModelConfigParser.unknownFields("1:5: Expected identifier.")).isEqualTo("1:5: Expected identifier.");
  }

  @Test
  void malformedTextIsAnErrorNamingTheModelAndThePlace() {
    assertThatThrownBy(() -> new ModelConfigParser().parse("m", "max_batch_size: eight"))
        .isInstanceOf(ModelLoadException.class).hasMessageContaining("model 'm'", "1:");
  }
}
