package io.junction.loadtest;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine;

/**
 * ghz's {@code --config} file: a JSON object of its options by their long names. Each setting applies
 * where the command line gave none (as in ghz, the command line wins); settings that only concern
 * ghz's own machinery (proto files, CPUs, tags) are accepted and ignored, and unknown ones refused.
 */
final class GhzConfig {
  /** ghz's keys that have no meaning here: Junction finds the method itself and has no such knobs. */
  private static final Set<String> IGNORED = Set.of("proto", "protoset", "import-paths", "name", "tags", "cpus",
      "async", "reflect-metadata", "enableCompression", "keepalive", "connect-timeout", "lb-strategy",
      "stream-interval", "stream-call-duration", "stream-call-count", "stream-dynamic-messages", "debug", "format-html");

  private GhzConfig() {}

  static void apply(Path file, LoadTest t, CommandSpec spec) {
    JsonObject json;
    try {
      json = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
    } catch (IOException | RuntimeException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--config " + file + ": not a JSON object ("
          + e.getMessage() + ")");
    }
    CommandLine.ParseResult given = spec.commandLine().getParseResult();
    for (String key : json.keySet()) {
      JsonElement v = json.get(key);
      String option = "--" + key;
      if (IGNORED.contains(key) || (!key.equals("host") && given.hasMatchedOption(option))) {
        continue;
      }
      try {
        switch (key) {
          case "host" -> {
            if (t.connection.target == null && t.connection.positionalTarget == null) {
              t.connection.target = v.getAsString();
            }
          }
          case "call" -> t.call = v.getAsString();
          case "insecure" -> t.connection.insecure = v.getAsBoolean();
          case "cacert" -> t.connection.cacert = new File(v.getAsString());
          case "concurrency" -> t.concurrency = v.getAsInt();
          case "connections" -> t.connections = v.getAsInt();
          case "total" -> t.total = v.getAsLong();
          case "duration" -> t.duration = v.getAsString();
          case "rps" -> t.rps = v.getAsDouble();
          case "timeout" -> t.timeout = v.getAsString();
          case "data" -> t.data = v.isJsonPrimitive() ? v.getAsString() : v.toString();
          case "data-file" -> t.dataFile = Path.of(v.getAsString());
          case "metadata" -> t.metadata = v.isJsonPrimitive() ? v.getAsString() : v.toString();
          case "skipFirst" -> t.skipFirst = v.getAsLong();
          case "count-errors" -> t.countErrors = v.getAsBoolean();
          case "output" -> t.output = Path.of(v.getAsString());
          case "format" -> t.format = v.getAsString();
          case "load-schedule" -> t.loadSchedule = v.getAsString();
          case "load-start" -> t.loadStart = v.getAsDouble();
          case "load-end" -> t.loadEnd = v.getAsDouble();
          case "load-step" -> t.loadStep = v.getAsDouble();
          case "load-step-duration" -> t.loadStepDuration = v.getAsString();
          case "load-max-duration" -> t.loadMaxDuration = v.getAsString();
          case "concurrency-schedule" -> t.concurrencySchedule = v.getAsString();
          case "concurrency-start" -> t.concurrencyStart = v.getAsDouble();
          case "concurrency-end" -> t.concurrencyEnd = v.getAsDouble();
          case "concurrency-step" -> t.concurrencyStep = v.getAsDouble();
          case "concurrency-step-duration" -> t.concurrencyStepDuration = v.getAsString();
          case "concurrency-max-duration" -> t.concurrencyMaxDuration = v.getAsString();
          default -> throw new CommandLine.ParameterException(spec.commandLine(), "--config " + file + ": unknown setting \""
              + key + "\"");
        }
      } catch (IllegalStateException | UnsupportedOperationException | NumberFormatException e) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--config " + file + ": \"" + key + "\" has the "
            + "wrong type: " + v);
      }
    }
  }
}
