package io.junction.server.http;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Writing whole answers on a connection, keeping it alive when the request allowed it. An answer to HEAD is written
 * as GET's, whole: the server codec sends its headers, Content-Length included, and drops its body.
 */
final class HttpResponses {
  static final String TEXT = "text/plain; charset=utf-8";
  static final String JSON = "application/json";
  /** The methods that read a resource, as an {@code Allow} header lists them. */
  static final String READ_METHODS = "GET, HEAD";
  /** The {@code Allow} header of a 405 from a resource that is only read. */
  static final Map<String, String> ALLOW_READ = Map.of(HttpHeaderNames.ALLOW.toString(), READ_METHODS);

  private HttpResponses() {}

  /** GET, or HEAD, which reads the same resource and is answered the same, without the body. */
  static boolean isRead(HttpMethod method) {
    return HttpMethod.GET.equals(method) || HttpMethod.HEAD.equals(method);
  }

  static void send(ChannelHandlerContext ctx, boolean keepAlive, HttpResponseStatus status, String contentType,
      byte[] body, Map<String, String> headers) {
    var written = ctx.writeAndFlush(response(keepAlive, status, contentType, body, headers));
    if (!keepAlive) {
      written.addListener(ChannelFutureListener.CLOSE);
    }
  }

  static FullHttpResponse response(boolean keepAlive, HttpResponseStatus status, String contentType, byte[] body,
      Map<String, String> headers) {
    FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(body));
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
    headers.forEach((k, v) -> response.headers().set(k, v));
    HttpUtil.setContentLength(response, body.length);
    HttpUtil.setKeepAlive(response, keepAlive);
    return response;
  }

  static void json(ChannelHandlerContext ctx, boolean keepAlive, HttpResponseStatus status, JsonElement body) {
    send(ctx, keepAlive, status, JSON, body.toString().getBytes(StandardCharsets.UTF_8), Map.of());
  }

  /** The REST API's error form, {@code {"error": "..."}}. */
  static void error(ChannelHandlerContext ctx, boolean keepAlive, HttpErrors.Failure failure, Map<String, String> headers) {
    send(ctx, keepAlive, failure.status(), JSON, errorBody(failure), headers);
  }

  static byte[] errorBody(HttpErrors.Failure failure) {
    JsonObject body = new JsonObject();
    body.addProperty("error", failure.message());
    return body.toString().getBytes(StandardCharsets.UTF_8);
  }
}
