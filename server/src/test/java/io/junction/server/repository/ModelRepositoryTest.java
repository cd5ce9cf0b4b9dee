package io.junction.server.repository;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.junction.proto.inference.ModelConfig;
import io.junction.server.backend.ModelLoadException;
import io.junction.server.errors.ModelNotFoundException;
import io.junction.testkit.FixtureModels;
import io.junction.testkit.ModelRepositoryWriter;
import io.junction.testkit.OnnxType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelRepositoryTest {
  @TempDir Path root;
  @TempDir Path outside;
  ModelRepositoryWriter writer;

  @BeforeEach
  void setUp() {
    writer = new ModelRepositoryWriter(root.resolve("repo"));
  }

  @Test
  void listsModelDirectoriesAndTheirVersions() throws Exception {
    writer.model("a", 1, FixtureModels.identity(OnnxType.FLOAT)).model("a", 3, FixtureModels.identity(OnnxType.FLOAT))
        .model("b", 1, FixtureModels.identity(OnnxType.FLOAT))
        .file("a", "notes/readme.txt", new byte[0])
        .file("a", "007x/model.onnx", new byte[0]);
    Files.writeString(writer.root().resolve("stray-file"), "not a model");
    ModelRepository repo = new ModelRepository(writer.root());
    assertThat(repo.modelNames()).containsExactly("a", "b");
    ModelDirectory a = repo.open("a");
    assertThat(a.availableVersions()).containsExactly(1L, 3L);
    assertThat(a.selectedVersions()).as("Triton's default policy: latest 1").containsExactly(3L);
    assertThat(a.config()).isEmpty();
  }

  @Test
  void versionPolicies() throws Exception {
    for (int v : new int[] {1, 2, 5, 9}) {
      writer.model("m", v, FixtureModels.identity(OnnxType.FLOAT));
    }
    ModelRepository repo = new ModelRepository(writer.root());
    writer.config("m", "version_policy: { latest { num_versions: 2 } }");
    assertThat(repo.open("m").selectedVersions()).containsExactly(5L, 9L);
    writer.config("m", "version_policy: { all {} }");
    assertThat(repo.open("m").selectedVersions()).containsExactly(1L, 2L, 5L, 9L);
    writer.config("m", "version_policy: { specific { versions: [ 2, 7, 9 ] } }");
    assertThat(repo.open("m").selectedVersions()).containsExactly(2L, 9L);
  }

  @Test
  void aConfigIsParsedOncePerChangeOfItsText() throws Exception {
    writer.model("m", 1, FixtureModels.identity(OnnxType.FLOAT)).config("m", "max_batch_size: 4");
    ModelRepository repo = new ModelRepository(writer.root());
    ModelConfig first = repo.open("m").config().orElseThrow();
    assertThat(repo.open("m").config().orElseThrow()).as("the same text, not parsed again").isSameAs(first);
    writer.config("m", "max_batch_size: 8");
    ModelConfig changed = repo.open("m").config().orElseThrow();
    assertThat(changed.getMaxBatchSize()).isEqualTo(8);
    assertThat(repo.open("m").config().orElseThrow()).isSameAs(changed);
  }

  @Test
  void namesThatLeaveTheRepositoryAreRefused() {
    ModelRepository repo = new ModelRepository(writer.root());
    for (String name : new String[] {"..", "../x", "/etc", "a/b", "", ".hidden", "a..b"}) {
      assertThatThrownBy(() -> repo.open(name)).as(name).isInstanceOf(ModelNotFoundException.class)
          .hasMessageContaining("not a valid model name");
    }
  }

  @Test
  void symlinksOutOfTheRepositoryAreNotFollowed() throws Exception {
    new ModelRepositoryWriter(outside).model("evil", 1, FixtureModels.identity(OnnxType.FLOAT));
    Files.createSymbolicLink(writer.root().resolve("evil"), outside.resolve("evil"));
    writer.model("m", 1, FixtureModels.identity(OnnxType.FLOAT));
    Path secret = Files.writeString(outside.resolve("secret.pbtxt"), "max_batch_size: 1");
    Files.createSymbolicLink(writer.root().resolve("m").resolve("config.pbtxt"), secret);
    writer.model("n", 1, new byte[0]);
    Path outsideModel = Files.write(outside.resolve("model.onnx"), FixtureModels.identity(OnnxType.FLOAT));
    Files.delete(writer.root().resolve("n/1/model.onnx"));
    Files.createSymbolicLink(writer.root().resolve("n/1/model.onnx"), outsideModel);

    ModelRepository repo = new ModelRepository(writer.root());
    assertThat(repo.modelNames()).containsExactly("m", "n");
    assertThatThrownBy(() -> repo.open("evil")).isInstanceOf(ModelNotFoundException.class);
    assertThatThrownBy(() -> repo.open("m")).isInstanceOf(ModelLoadException.class)
        .hasMessageContaining("config.pbtxt is not a regular file inside the repository");
    ModelDirectory n = repo.open("n");
    assertThatThrownBy(() -> repo.versionFile(n, 1, "model.onnx")).isInstanceOf(ModelLoadException.class)
        .hasMessageContaining("links outside the model repository");
    assertThatThrownBy(() -> repo.versionFile(n, 1, "../../m/config.pbtxt")).isInstanceOf(ModelLoadException.class)
        .hasMessageContaining("plain file name");
  }

  @Test
  void configMustNameItsOwnDirectory() {
    writer.model("m", 1, FixtureModels.identity(OnnxType.FLOAT)).config("m", "name: \"other\"");
    assertThatThrownBy(() -> new ModelRepository(writer.root()).open("m")).isInstanceOf(ModelLoadException.class)
        .hasMessageContaining("names the model 'other'");
  }

  @Test
  void malformedConfigSaysWhere() {
    writer.model("m", 1, FixtureModels.identity(OnnxType.FLOAT)).config("m", "max_batch_size: 4\ninput [ { name: ");
    assertThatThrownBy(() -> new ModelRepository(writer.root()).open("m")).isInstanceOf(ModelLoadException.class)
        .hasMessageContaining("model 'm': config.pbtxt is not valid: 2:");
  }

  @Test
  void unknownFieldsAreSkipped() throws Exception {
    String text = "max_batch_size: 4\nsequence_batching { max_sequence_idle_microseconds: 5 }\nfuture_field: 1\n";
    writer.model("m", 1, FixtureModels.identity(OnnxType.FLOAT)).config("m", text);
    assertThat(new ModelRepository(writer.root()).open("m").config().orElseThrow().getMaxBatchSize()).isEqualTo(4);
    assertThat(new String(Files.readAllBytes(writer.root().resolve("m/config.pbtxt")), StandardCharsets.UTF_8))
        .isEqualTo(text);
  }
}
