package io.junction.server.repository;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.TextFormat;
import com.google.protobuf.util.JsonFormat;
import io.junction.proto.inference.ModelConfig;
import io.junction.server.backend.ModelLoadException;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Parses {@code config.pbtxt} (protobuf text format of Triton's ModelConfig). Fields Junction does not
 * know are warned about and skipped, so configs written for Triton load; anything else malformed is
 * an error that names the line and column.
 */
public final class ModelConfigParser {
  private static final Logger log = LoggerFactory.getLogger(ModelConfigParser.class);

  /** Deep nesting in a config is a mistake or an attack, never a real config. */
  private static final int RECURSION_LIMIT = 32;
  /** As config.pbtxt's limit: a config is a page, not a megabyte. */
  private static final int MAX_JSON_CHARS = 1 << 20;

  private final TextFormat.Parser strict = TextFormat.Parser.newBuilder()
      .setRecursionLimit(RECURSION_LIMIT).build();
  private final TextFormat.Parser lenient = TextFormat.Parser.newBuilder()
      .setRecursionLimit(RECURSION_LIMIT).setAllowUnknownFields(true).setAllowUnknownExtensions(true).build();

  /**
   * Parses a config given as JSON (Triton's {@code config} load parameter: protobuf's JSON mapping,
   * field names as in config.pbtxt or in lowerCamelCase). Unknown fields are refused, since a JSON
   * override comes from a person at a terminal who would want to hear of a typo.
   */
  public ModelConfig parseJson(String modelName, String json) throws ModelLoadException {
    if (json.length() > MAX_JSON_CHARS) {
      throw new ModelLoadException("model '" + modelName + "': the config override is longer than " + MAX_JSON_CHARS
          + " characters");
    }
    ModelConfig.Builder builder = ModelConfig.newBuilder();
    try {
      JsonFormat.parser().merge(json, builder);
      return builder.build();
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      throw new ModelLoadException("model '" + modelName + "': the config override is not a valid model config: "
          + e.getMessage(), e);
    }
  }

  public ModelConfig parse(String modelName, String text) throws ModelLoadException {
    ModelConfig.Builder builder = ModelConfig.newBuilder();
    try {
      strict.merge(text, builder);
      return builder.build();
    } catch (TextFormat.ParseException strictError) {
      builder.clear();
      try {
        lenient.merge(text, builder);
      } catch (TextFormat.ParseException e) {
        throw new ModelLoadException("model '" + modelName + "': config.pbtxt is not valid: " + e.getMessage(), e);
      }
      // Only unknown fields separate the two parsers, and the strict one's error lists them all.
      log.warn("model '{}': config.pbtxt has fields Junction does not use; they are ignored: {}", modelName,
          unknownFields(strictError.getMessage()));
      return builder.build();
    }
  }

  /**
   * The unknown fields of a strict parse's error on one line ("6:1 inference.ModelConfig.rate_limiter, ..."):
   * protobuf lists them a line each under a heading. The message as it is if it has no such list.
   */
  static String unknownFields(String strictError) {
    List<String> fields = strictError.lines().skip(1).map(String::strip).filter(l -> !l.isEmpty())
        .map(l -> l.replaceFirst(":\\s+", " ")).toList();
    return fields.isEmpty() ? strictError : String.join(", ", fields);
  }
}
