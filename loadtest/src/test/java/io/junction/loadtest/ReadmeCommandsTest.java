package io.junction.loadtest;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Every {@code junction-loadtest} command line the README and the ghz directory's README show parses: its options exist
 * and take the values written, so a user who copies one is not told "Unknown option".
 */
class ReadmeCommandsTest {
  private static final String JAR = "junction-loadtest.jar";

  @Test
  void everyDocumentedCommandLineParses() throws IOException {
    List<List<String>> commands = new ArrayList<>();
    for (Path doc : List.of(Path.of("..", "README.md"), Path.of("ghz", "README.md"))) {
      commands.addAll(commands(Files.readAllLines(doc)));
    }
    assertThat(commands).as("commands found in the READMEs").hasSizeGreaterThanOrEqualTo(8);
    for (List<String> args : commands) {
      CommandLine cli = LoadTest.commandLine();
      assertThat(cli.parseArgs(args.toArray(String[]::new)).errors()).as(String.join(" ", args)).isEmpty();
    }
  }

  /** The arguments after the jar, of every command line that runs it (a line ending in a backslash goes on). */
  static List<List<String>> commands(List<String> lines) {
    List<List<String>> commands = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      int jar = line.indexOf(JAR + " ");
      if (jar < 0) {
        continue;
      }
      StringBuilder command = new StringBuilder(line.substring(jar + JAR.length()));
      while (command.toString().stripTrailing().endsWith("\\") && i + 1 < lines.size()) {
        command.setLength(command.toString().stripTrailing().length() - 1);
        command.append(' ').append(lines.get(++i));
      }
      commands.add(words(command.toString()));
    }
    return commands;
  }

  /**
   * A shell's words: quotes group and are dropped, an unquoted {@code #} starts a comment, and an unquoted backtick
   * (the end of a command written inline in Markdown) ends the command.
   */
  static List<String> words(String text) {
    List<String> words = new ArrayList<>();
    StringBuilder word = null;
    char quote = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (quote != 0) {
        if (c == quote) {
          quote = 0;
        } else {
          word.append(c);
        }
      } else if (c == '\'' || c == '"') {
        quote = c;
        word = word == null ? new StringBuilder() : word;
      } else if (c == '#' || c == '`') {
        break;
      } else if (Character.isWhitespace(c)) {
        if (word != null) {
          words.add(word.toString());
          word = null;
        }
      } else {
        word = word == null ? new StringBuilder() : word;
        word.append(c);
      }
    }
    if (word != null) {
      words.add(word.toString());
    }
    return words;
  }

  @Test
  void commandsAreReadAsAShellReadsThem() {
    assertThat(commands(List.of(
        "java -jar loadtest/target/junction-loadtest.jar --target localhost:8001 --model scorer \\",
        "    -m '{\"x-routing-key\":\"user-7\"}' -n 1000      # a route",
        "Run `java -jar loadtest/target/junction-loadtest.jar --insecure -z 1m30s localhost:8001`.")))
        .containsExactly(
            List.of("--target", "localhost:8001", "--model", "scorer", "-m", "{\"x-routing-key\":\"user-7\"}", "-n",
                "1000"),
            List.of("--insecure", "-z", "1m30s", "localhost:8001"));
  }
}
