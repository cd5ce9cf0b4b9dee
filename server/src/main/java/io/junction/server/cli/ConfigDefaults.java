package io.junction.server.cli;

import io.junction.server.config.SafeYaml;
import io.junction.server.errors.FileErrors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.yaml.snakeyaml.error.YAMLException;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine;

/**
 * Values of the options a command line leaves out, from the environment and from a YAML file, as a Kubernetes
 * Deployment sets them (a ConfigMap's file, variables from a Secret): {@code JUNCTION_GRPC_PORT=9001} in the
 * environment, or {@code grpc-port: 9001} in the file, stands for {@code --grpc-port 9001}. The command line wins
 * over the environment, the environment over the file, the file over the built-in defaults. The file is named by
 * {@code --config} or {@code JUNCTION_CONFIG}; a key that names no option is an error, not a silent no-op. An empty
 * variable counts as unset.
 */
public final class ConfigDefaults implements CommandLine.IDefaultValueProvider {
  public static final String ENVIRONMENT_PREFIX = "JUNCTION_";
  /** The option naming the file; the file cannot name it. */
  public static final String FILE_OPTION = "--config";

  private final CommandSpec command;
  private final Map<String, String> environment;
  private final Supplier<Optional<Path>> file;
  private Map<String, String> fileValues;
  /** Option name to where its value came from, for the options this provider gave a value. */
  private final Map<String, String> sources = new HashMap<>();

  /**
   * @param command the command whose options the file may set
   * @param environment the process's environment
   * @param file the file named on the command line, asked once the command line is parsed; without one, the file
   *     {@code JUNCTION_CONFIG} names
   */
  public ConfigDefaults(CommandSpec command, Map<String, String> environment, Supplier<Optional<Path>> file) {
    this.command = command;
    this.environment = Map.copyOf(environment);
    this.file = file;
  }

  /** The environment variable that stands for an option: {@code --grpc-port} is {@code JUNCTION_GRPC_PORT}. */
  public static String variable(String option) {
    return ENVIRONMENT_PREFIX + option.substring(2).toUpperCase(Locale.ROOT).replace('-', '_');
  }

  @Override
  public String defaultValue(ArgSpec arg) {
    if (!(arg instanceof OptionSpec option) || option.usageHelp() || option.versionHelp()) {
      return null;
    }
    String name = option.longestName();
    String variable = variable(name);
    Optional<String> value = valueOf(variable);
    if (value.isPresent()) {
      sources.put(name, variable);
      return value.get();
    }
    if (name.equals(FILE_OPTION)) {
      return null;
    }
    String fromFile = fileValues().get(name);
    if (fromFile != null) {
      sources.put(name, "'" + name.substring(2) + "' in " + file().orElseThrow());
    }
    return fromFile;
  }

  /** A variable's value; a template's empty variable counts as unset, as an absent one. */
  private Optional<String> valueOf(String name) {
    return Optional.ofNullable(environment.get(name)).filter(value -> !value.isBlank());
  }

  private Optional<Path> file() {
    return file.get().or(() -> valueOf(variable(FILE_OPTION)).map(Path::of));
  }

  /**
   * The environment's {@code JUNCTION_*} variables that stand for no option (a misspelt one, or another tool's), which
   * the server ignores and should say so.
   */
  public List<String> variablesOfNoOption() {
    Set<String> known = command.options().stream().map(o -> variable(o.longestName())).collect(Collectors.toSet());
    return environment.keySet().stream().filter(name -> name.startsWith(ENVIRONMENT_PREFIX) && !known.contains(name))
        .sorted().toList();
  }

  /** Where the values of options the command line left out came from, for the options named in {@code text}. */
  public String sourcesNamedIn(String text) {
    return sources.entrySet().stream()
        .filter(e -> Pattern.compile(Pattern.quote(e.getKey()) + "(?![a-z0-9-])").matcher(text).find())
        .map(e -> e.getKey() + " was set by " + e.getValue()).sorted().collect(Collectors.joining("; "));
  }

  private Map<String, String> fileValues() {
    if (fileValues == null) {
      fileValues = file().map(this::read).orElse(Map.of());
    }
    return fileValues;
  }

  private Map<String, String> read(Path path) {
    String text;
    try {
      text = Files.readString(path);
    } catch (IOException e) {
      throw error("the config file " + path + " cannot be read: " + FileErrors.reason(e));
    }
    Object root;
    try {
      root = SafeYaml.load(text);
    } catch (YAMLException e) {
      throw error("the config file " + path + " is not valid YAML: " + e.getMessage());
    }
    if (root == null) {
      return Map.of();
    }
    if (!(root instanceof Map<?, ?> entries)) {
      throw error("the config file " + path + " must be a mapping of option names to values, "
          + "such as 'grpc-port: 8001'");
    }
    Map<String, OptionSpec> options = new LinkedHashMap<>();
    for (OptionSpec option : command.options()) {
      if (!option.usageHelp() && !option.versionHelp() && !option.longestName().equals(FILE_OPTION)) {
        options.put(option.longestName().substring(2), option);
      }
    }
    Map<String, String> values = new HashMap<>();
    for (Map.Entry<?, ?> entry : entries.entrySet()) {
      String key = String.valueOf(entry.getKey());
      OptionSpec option = options.get(key);
      if (option == null) {
        throw error("the config file " + path + " sets '" + key + "', which is no option of junction-server "
            + "(its keys are the options of 'junction-server --help' without their dashes)");
      }
      values.put(option.longestName(), value(path, key, option, entry.getValue()));
    }
    return values;
  }

  private String value(Path path, String key, OptionSpec option, Object value) {
    if (value instanceof List<?> list) {
      if (option.splitRegex().isEmpty()) {
        throw error("the config file " + path + " gives '" + key + "' a list; it takes one value");
      }
      return list.stream().map(element -> scalar(path, key, element)).collect(Collectors.joining(","));
    }
    return scalar(path, key, value);
  }

  private String scalar(Path path, String key, Object value) {
    if (value instanceof String || value instanceof Number || value instanceof Boolean) {
      return String.valueOf(value);
    }
    throw error("the config file " + path + " gives '" + key + "' "
        + (value == null ? "no value" : "a " + (value instanceof Map ? "mapping" : value.getClass().getSimpleName()))
        + "; it takes a number, a word, true or false");
  }

  private CommandLine.ParameterException error(String message) {
    return new CommandLine.ParameterException(command.commandLine(), message);
  }
}
