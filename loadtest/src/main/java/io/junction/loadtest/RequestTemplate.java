package io.junction.loadtest;

import com.google.gson.JsonElement;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.junction.proto.inference.ModelInferRequest;
import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.LongFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * ghz's data templates: {@code {{.RequestNumber}}}, {@code {{.UUID}}} or {@code {{newUUID}}},
 * {@code {{.Timestamp}}}, {@code {{.TimestampUnix}}}, {@code {{.TimestampUnixMilli}}},
 * {@code {{.TimestampUnixNano}}}, {@code {{.FullyQualifiedName}}}, {@code {{.MethodName}}},
 * {@code {{.ServiceName}}}, {@code {{.InputName}}}, {@code {{.OutputName}}}, {@code {{randomString N}}} and
 * {@code {{randomInt MIN MAX}}}, rendered for every call. Any other action is refused before the run.
 */
final class RequestTemplate {
  private static final Pattern ACTION = Pattern.compile("\\{\\{\\s*([^}]*?)\\s*}}");
  private static final String ALPHANUMERIC = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

  private RequestTemplate() {}

  static boolean isTemplate(String json) {
    return json.contains("{{");
  }

  /**
   * The request of each call: the data rendered with the call's number, then (a JSON array) its items
   * taken in turn. Rendering comes first, as in ghz, so actions may stand where JSON needs a number.
   *
   * @param defaultModel set where a request names no model
   * @throws IllegalArgumentException naming an action it does not know, or data that does not parse
   */
  static LongFunction<ModelInferRequest> of(String data, String defaultModel) {
    Matcher m = ACTION.matcher(data);
    while (m.find()) {
      value(m.group(1), 0); // refuse what it cannot render before the first call
    }
    requestOf(data, 0, defaultModel); // and what does not parse
    return n -> requestOf(data, n, defaultModel);
  }

  private static ModelInferRequest requestOf(String data, long n, String defaultModel) {
    JsonElement json;
    try {
      json = JsonParser.parseString(render(data, n));
    } catch (JsonParseException e) {
      throw new IllegalArgumentException("the data, once rendered, is not JSON: " + e.getMessage(), e);
    }
    if (json.isJsonArray()) {
      if (json.getAsJsonArray().isEmpty()) {
        throw new IllegalArgumentException("the data is an empty array: no request to send");
      }
      json = json.getAsJsonArray().get((int) (n % json.getAsJsonArray().size()));
    }
    return parse(json.toString(), defaultModel);
  }

  private static ModelInferRequest parse(String json, String defaultModel) {
    ModelInferRequest.Builder b = ModelInferRequest.newBuilder();
    try {
      JsonFormat.parser().merge(json, b);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalArgumentException("the data, once rendered, is not a ModelInferRequest: " + e.getMessage(), e);
    }
    if (b.getModelName().isEmpty() && defaultModel != null) {
      b.setModelName(defaultModel);
    }
    return b.build();
  }

  static String render(String text, long requestNumber) {
    Matcher m = ACTION.matcher(text);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      m.appendReplacement(out, Matcher.quoteReplacement(value(m.group(1), requestNumber)));
    }
    m.appendTail(out);
    return out.toString();
  }

  private static String value(String action, long n) {
    String[] words = action.split("\\s+");
    Instant now = Instant.now();
    return switch (words[0]) {
      case ".RequestNumber" -> Long.toString(n);
      case ".UUID", "newUUID" -> UUID.randomUUID().toString();
      case ".Timestamp" -> now.toString();
      case ".TimestampUnix" -> Long.toString(now.getEpochSecond());
      case ".TimestampUnixMilli" -> Long.toString(now.toEpochMilli());
      case ".TimestampUnixNano" -> Long.toString(now.getEpochSecond() * 1_000_000_000L + now.getNano());
      case ".FullyQualifiedName" -> "inference.GRPCInferenceService.ModelInfer";
      case ".MethodName" -> "ModelInfer";
      case ".ServiceName" -> "inference.GRPCInferenceService";
      case ".InputName" -> "inference.ModelInferRequest";
      case ".OutputName" -> "inference.ModelInferResponse";
      case "randomString" -> randomString(words.length > 1 ? Integer.parseInt(words[1]) : 0);
      case "randomInt" -> Long.toString(ThreadLocalRandom.current().nextLong(Long.parseLong(words[1]),
          Long.parseLong(words[2])));
      default -> throw new IllegalArgumentException("the template action {{" + action + "}} is not one ghz's "
          + "junction-loadtest renders (.RequestNumber, .UUID, newUUID, .Timestamp..., randomString N, randomInt MIN MAX)");
    };
  }

  private static String randomString(int length) {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    int n = length > 0 ? length : 1 + random.nextInt(16);
    StringBuilder s = new StringBuilder(n);
    for (int i = 0; i < n; i++) {
      s.append(ALPHANUMERIC.charAt(random.nextInt(ALPHANUMERIC.length())));
    }
    return s.toString();
  }
}
