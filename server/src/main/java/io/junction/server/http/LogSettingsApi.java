package io.junction.server.http;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import io.junction.server.config.AdminAccess;
import io.junction.server.errors.InvalidInputException;
import io.junction.server.logging.LogControl;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Triton's logging extension over REST: {@code GET /v2/logging} (or HEAD, as every resource that is read) reads the
 * log settings, {@code POST /v2/logging} with {@code {"log_verbose_level": 1, ...}} changes those it names (a null
 * value changes nothing, as in Triton); both answer every setting. Admins only, as over gRPC: the log's levels are
 * the whole process's.
 */
public final class LogSettingsApi {
  static final String PATH = "/v2/logging";

  private final LogControl logs;
  private final AdminAccess admin;

  public LogSettingsApi(LogControl logs, AdminAccess admin) {
    this.logs = logs;
    this.admin = admin;
  }

  static boolean serves(String path) {
    return path.equals(PATH);
  }

  void handle(ChannelHandlerContext ctx, FullHttpRequest request) {
    boolean keepAlive = HttpUtil.isKeepAlive(request);
    HttpMethod method = request.method();
    if (!HttpResponses.isRead(method) && !HttpMethod.POST.equals(method)) {
      HttpResponses.error(ctx, keepAlive, new HttpErrors.Failure(HttpResponseStatus.METHOD_NOT_ALLOWED,
          method.name() + " " + PATH + " is not served: GET reads the log settings, POST changes them"),
          Map.of(HttpHeaderNames.ALLOW.toString(), HttpResponses.READ_METHODS + ", POST"));
      return;
    }
    if (!admin.acceptsBearer(request.headers().get(HttpHeaderNames.AUTHORIZATION))) {
      HttpResponses.error(ctx, keepAlive, new HttpErrors.Failure(HttpResponseStatus.UNAUTHORIZED,
          "reading and changing the log settings needs the admin credential: 'Authorization: Bearer <token>'"
              + (admin.token().isEmpty() ? " (the server has none; start it with --admin-token-file)" : "")),
          Map.of("WWW-Authenticate", "Bearer"));
      return;
    }
    try {
      LogControl.Settings now = HttpMethod.POST.equals(method) ? logs.update(changes(request)) : logs.settings();
      JsonObject body = new JsonObject();
      now.byName().forEach((name, value) -> body.add(name, value instanceof Boolean b ? new JsonPrimitive(b)
          : value instanceof Long n ? new JsonPrimitive(n) : new JsonPrimitive(String.valueOf(value))));
      HttpResponses.json(ctx, keepAlive, HttpResponseStatus.OK, body);
    } catch (RuntimeException e) {
      HttpResponses.error(ctx, keepAlive, HttpErrors.of(e), Map.of());
    }
  }

  /** The body's settings as LogControl takes them; an empty body changes nothing. */
  private static Map<String, Object> changes(FullHttpRequest request) {
    Map<String, Object> changes = new LinkedHashMap<>();
    if (request.content().readableBytes() == 0) {
      return changes;
    }
    JsonElement body;
    try {
      body = JsonParser.parseString(request.content().toString(StandardCharsets.UTF_8));
    } catch (RuntimeException e) {
      throw new InvalidInputException("the log settings request is not JSON like {\"log_verbose_level\": 1}");
    }
    if (!body.isJsonObject()) {
      throw new InvalidInputException("the log settings request must be a JSON object like {\"log_verbose_level\": 1}");
    }
    for (Map.Entry<String, JsonElement> e : body.getAsJsonObject().entrySet()) {
      JsonElement value = e.getValue();
      if (!value.isJsonNull()) {
        changes.put(e.getKey(), value(value));
      }
    }
    return changes;
  }

  /** A Boolean, a Long for a whole number, a String; anything else as its JSON text, which LogControl refuses. */
  private static Object value(JsonElement value) {
    if (value.isJsonPrimitive()) {
      JsonPrimitive p = value.getAsJsonPrimitive();
      if (p.isBoolean()) {
        return p.getAsBoolean();
      }
      if (p.isString()) {
        return p.getAsString();
      }
      try {
        return p.getAsBigDecimal().longValueExact();
      } catch (ArithmeticException notWhole) {
        return value.toString();
      }
    }
    return value.toString();
  }
}
