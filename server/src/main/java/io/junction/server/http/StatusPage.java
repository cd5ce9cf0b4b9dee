package io.junction.server.http;

import com.google.gson.JsonObject;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The status page: {@code GET /} (and {@code /ui}) answers one self-contained HTML page (inline CSS and
 * script, no other requests but its own polling), {@code GET /v2/status} the JSON it polls. Read-only.
 */
public final class StatusPage {
  private static final String HTML = "text/html; charset=utf-8";
  /** The page loads nothing from elsewhere and runs only its own inline script. */
  private static final Map<String, String> PAGE_HEADERS = Map.of(
      "Content-Security-Policy", "default-src 'none'; connect-src 'self'; script-src 'unsafe-inline'; "
          + "style-src 'unsafe-inline'; img-src 'self' data:",
      "X-Content-Type-Options", "nosniff",
      "Cache-Control", "no-store");

  private final Supplier<JsonObject> report;
  private final byte[] page;

  public StatusPage(Supplier<JsonObject> report) {
    this.report = report;
    try (InputStream in = StatusPage.class.getResourceAsStream("status.html")) {
      if (in == null) {
        throw new IllegalStateException("status.html is missing from the server's resources");
      }
      this.page = in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static boolean serves(String path) {
    return path.equals("/") || path.equals("/ui") || path.equals("/v2/status");
  }

  void handle(ChannelHandlerContext ctx, FullHttpRequest request, String path) {
    boolean keepAlive = HttpUtil.isKeepAlive(request); // read-only: other methods are refused before this
    if (path.equals("/v2/status")) {
      HttpResponses.send(ctx, keepAlive, HttpResponseStatus.OK, HttpResponses.JSON,
          report.get().toString().getBytes(StandardCharsets.UTF_8), Map.of("Cache-Control", "no-store"));
    } else {
      HttpResponses.send(ctx, keepAlive, HttpResponseStatus.OK, HTML, page, PAGE_HEADERS);
    }
  }
}
