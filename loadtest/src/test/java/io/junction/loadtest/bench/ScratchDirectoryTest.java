package io.junction.loadtest.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class ScratchDirectoryTest {
  @Test
  void closingDeletesTheDirectoryWithEverythingWrittenInIt() throws Exception {
    Path path;
    try (ScratchDirectory scratch = new ScratchDirectory("junction-scratch-test-")) {
      path = scratch.path();
      Files.createDirectories(path.resolve("repo/big/1"));
      Files.write(path.resolve("repo/big/1/model.onnx"), new byte[4096]);
      Files.writeString(path.resolve("repo/big/config.pbtxt"), "max_batch_size: 128\n");
      assertThat(path.resolve("repo/big/1/model.onnx")).exists();
    }
    assertThat(path).doesNotExist();
  }
}
