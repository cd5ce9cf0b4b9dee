package io.junction.server.repository;

import com.google.protobuf.TextFormat;
import io.junction.proto.inference.ModelConfig;
import io.junction.server.backend.ModelLoadException;
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

  private final TextFormat.Parser strict = TextFormat.Parser.newBuilder()
      .setRecursionLimit(RECURSION_LIMIT).build();
  private final TextFormat.Parser lenient = TextFormat.Parser.newBuilder()
      .setRecursionLimit(RECURSION_LIMIT).setAllowUnknownFields(true).setAllowUnknownExtensions(true).build();

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
      // Only unknown fields separate the two parsers; protobuf's own warning lists all of them.
      log.warn("model '{}': config.pbtxt has fields Junction does not use; they are ignored (first: {})",
          modelName, strictError.getMessage());
      return builder.build();
    }
  }
}
