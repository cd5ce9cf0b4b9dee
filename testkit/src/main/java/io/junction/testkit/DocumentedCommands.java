package io.junction.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The command lines documentation shows for a program, as a shell would pass them to it, so that a test can check
 * that each one still parses: what a user copies must not meet "Unknown option".
 */
public final class DocumentedCommands {
  private DocumentedCommands() {}

  /**
   * The arguments after {@code program} (e.g. {@code junction-loadtest.jar}) of every command line in {@code docs}
   * that runs it; a line ending in a backslash goes on on the next.
   */
  public static List<List<String>> of(String program, List<Path> docs) {
    List<List<String>> commands = new ArrayList<>();
    for (Path doc : docs) {
      try {
        commands.addAll(in(program, Files.readAllLines(doc)));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return commands;
  }

  /** The same, in lines of text. */
  public static List<List<String>> in(String program, List<String> lines) {
    List<List<String>> commands = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      int at = line.indexOf(program + " ");
      if (at < 0) {
        continue;
      }
      StringBuilder command = new StringBuilder(line.substring(at + program.length()));
      while (command.toString().stripTrailing().endsWith("\\") && i + 1 < lines.size()) {
        command.setLength(command.toString().stripTrailing().length() - 1);
        command.append(' ').append(lines.get(++i));
      }
      commands.add(words(command.toString()));
    }
    return commands;
  }

  /**
   * A shell's words of one command: quotes group and are dropped; an unquoted {@code #} (a comment), control operator
   * ({@code & | ;}), redirection ({@code < >}) or backtick (the end of a command written inline in Markdown) ends it.
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
      } else if ("#`&|;<>".indexOf(c) >= 0) {
        if ((c == '<' || c == '>') && word != null && word.chars().allMatch(Character::isDigit)) {
          word = null; // the descriptor of a redirection (2>&1), not an argument
        }
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
}
