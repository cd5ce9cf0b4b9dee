package io.junction.loadtest;

import static org.assertj.core.api.Assertions.assertThat;

import io.junction.testkit.DocumentedCommands;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Every {@code junction-loadtest} command line the README and the ghz directory's README show parses: its options exist
 * and take the values written, so a user who copies one is not told "Unknown option".
 */
class ReadmeCommandsTest {
  @Test
  void everyDocumentedCommandLineParses() {
    List<List<String>> commands = DocumentedCommands.of("junction-loadtest.jar",
        List.of(Path.of("..", "README.md"), Path.of("ghz", "README.md")));
    assertThat(commands).as("commands found in the READMEs").hasSizeGreaterThanOrEqualTo(8);
    for (List<String> args : commands) {
      CommandLine cli = LoadTest.commandLine();
      cli.getCommandSpec().parser().collectErrors(true); // told here, with the command, rather than thrown
      assertThat(cli.parseArgs(args.toArray(String[]::new)).errors()).as(String.join(" ", args)).isEmpty();
    }
  }
}
