package io.junction.server.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.junction.server.backend.BackendRegistry;
import io.junction.server.repository.ModelRepository;
import io.junction.testkit.Mlp;
import io.junction.testkit.ModelRepositoryWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** POLL mode poll by poll, with real models and no timer: what each poll loads, retries and unloads. */
class RepositorySyncTest {
  private static final byte[] GARBAGE = "this is not an ONNX model".getBytes(StandardCharsets.UTF_8);

  @TempDir
  Path repo;
  private ModelRepositoryWriter writer;
  private BackendRegistry backends;
  private ModelManager models;
  /** The polls (counted from 0) at which a load of the model named "broken" swapped in a record. */
  private final List<Integer> brokenLoads = new ArrayList<>();
  private int poll;

  @BeforeEach
  void setUp() {
    writer = new ModelRepositoryWriter(repo);
    backends = BackendRegistry.discover();
    models = new ModelManager(new ModelRepository(repo), backends, new ModelConfigResolver(4, Set.of()));
    models.addListener((name, ready) -> {
      if (name.equals("broken")) {
        brokenLoads.add(poll);
      }
    });
  }

  @AfterEach
  void tearDown() {
    models.close();
    backends.close();
  }

  @Test
  void aNewModelLoadsOnceTwoPollsSawTheSameFiles() {
    RepositorySync sync = new RepositorySync(models, false);
    writer.model("alpha", 1, Mlp.seeded(4, 2, 1).onnx());

    sync.poll();
    assertThat(models.isLoaded("alpha")).as("after the first poll that saw it").isFalse();
    sync.poll();
    assertThat(models.isLoaded("alpha")).as("after the second").isTrue();
  }

  @Test
  void aModelWhoseDirectoryIsGoneIsUnloadedAndForgotten() throws Exception {
    RepositorySync sync = new RepositorySync(models, false);
    writer.model("alpha", 1, Mlp.seeded(4, 2, 1).onnx()).model("beta", 1, Mlp.seeded(4, 2, 2).onnx());
    sync.poll();
    sync.poll();
    ServedModel alpha = models.resolve("alpha", "");

    deleteTree(repo.resolve("alpha"));
    sync.poll();

    assertThat(models.recordedNames()).containsExactly("beta");
    assertThat(alpha.isRetired()).isTrue();
    assertThat(models.isLoaded("beta")).isTrue();
  }

  @Test
  void unchangedFilesThatFailAreRetriedAfterOneTwoFourEightAndSixteenPolls() {
    RepositorySync sync = new RepositorySync(models, false);
    writer.file("broken", "1/model.onnx", GARBAGE);

    for (poll = 0; poll < 30; poll++) {
      sync.poll();
    }

    // Seen at poll 0, loaded at 1 once the files had settled, then retried 1, 2, 4, 8 and 16 polls later.
    assertThat(brokenLoads).containsExactly(1, 2, 4, 8, 16);
    assertThat(models.isLoaded("broken")).isFalse();
  }

  @Test
  void fixedFilesAreLoadedAtOnceWhateverTheBackOff() {
    RepositorySync sync = new RepositorySync(models, false);
    writer.file("broken", "1/model.onnx", GARBAGE);
    for (poll = 0; poll < 10; poll++) {
      sync.poll(); // loads at 1, 2, 4 and 8; the next retry would be at 16
    }

    writer.model("broken", 1, Mlp.seeded(4, 2, 3).onnx());
    for (; poll < 12; poll++) {
      sync.poll();
    }

    // the new files are seen at poll 10 and loaded at 11, once they stayed the same
    assertThat(brokenLoads).containsExactly(1, 2, 4, 8, 11);
    assertThat(models.isLoaded("broken")).isTrue();
  }

  @Test
  void onDemandPollsReloadOnlyLoadedModels() {
    RepositorySync sync = new RepositorySync(models, true);
    writer.model("alpha", 1, Mlp.seeded(4, 2, 1).onnx()).model("beta", 1, Mlp.seeded(4, 2, 2).onnx());
    models.load("alpha");
    ServedModel first = models.resolve("alpha", "");

    writer.model("alpha", 2, Mlp.seeded(4, 2, 3).onnx());
    sync.poll();
    sync.poll();

    assertThat(models.resolve("alpha", "").version()).isEqualTo(2);
    assertThat(first.isRetired()).isTrue();
    assertThat(models.recordedNames()).as("beta loads on its first request, not behind the budget's back")
        .containsExactly("alpha");
  }

  private static void deleteTree(Path dir) throws Exception {
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted((a, b) -> b.compareTo(a)).toList()) {
        Files.delete(p);
      }
    }
  }
}
