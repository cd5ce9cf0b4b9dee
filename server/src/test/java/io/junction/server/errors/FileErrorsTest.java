package io.junction.server.errors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.junction.server.TestServer;
import io.junction.server.config.PayloadLogConfig;
import io.junction.server.config.ServerConfig;
import io.junction.testkit.DemoRepository;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A file the operator named that cannot be used is told with what was wrong with it, not just its path. */
class FileErrorsTest {
  @TempDir Path dir;

  @Test
  void theJdksFileExceptionsAreToldInWords() throws IOException {
    Path missing = dir.resolve("missing.yaml");
    IOException notFound = catchIo(() -> Files.readString(missing));
    assertThat(FileErrors.reason(notFound)).isEqualTo("no such file or directory");
    assertThat(FileErrors.describe(notFound)).isEqualTo("no such file or directory: " + missing);

    Path file = Files.writeString(dir.resolve("file"), "x");
    assertThat(FileErrors.reason(catchIo(() -> Files.createDirectories(file))))
        .isEqualTo("a file of that name exists already");
    assertThat(FileErrors.reason(catchIo(() -> Files.list(file)))).isEqualTo("not a directory");
    assertThat(FileErrors.describe(new IOException("the disk is full"))).isEqualTo("the disk is full");
  }

  @Test
  void aServerThatCannotUseANamedFileSaysWhatWasWrong() throws IOException {
    Path repo = DemoRepository.write(dir.resolve("repo"));
    Path taken = Files.writeString(dir.resolve("taken"), "a file, not a directory");
    assertThatThrownBy(() -> TestServer.start(ServerConfig.loopback(repo).withRoutesFile(dir.resolve("routes.yaml"))))
        .hasMessage("cannot read the routes file " + dir.resolve("routes.yaml") + ": no such file or directory");
    assertThatThrownBy(() -> TestServer.start(ServerConfig.loopback(repo).withStateDir(taken)))
        .hasMessage("cannot make the state directory (--state-dir) " + taken + ": a file of that name exists already");
    assertThatThrownBy(() -> TestServer.start(ServerConfig.loopback(repo)
        .withPayloadLog(PayloadLogConfig.OFF.withDir(taken))))
        .hasMessage("cannot write payload logs to " + taken + ": a file of that name exists already");
  }

  private interface FileAction {
    Object run() throws IOException;
  }

  private static IOException catchIo(FileAction action) {
    try {
      action.run();
    } catch (IOException e) {
      return e;
    }
    throw new AssertionError("the file action did not fail");
  }
}
