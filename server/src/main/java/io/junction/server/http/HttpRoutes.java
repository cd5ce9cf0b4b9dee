package io.junction.server.http;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.zip.GZIPOutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The answers of the HTTP port, by path. Stateless, so one instance serves every connection. */
@ChannelHandler.Sharable
final class HttpRoutes extends SimpleChannelInboundHandler<FullHttpRequest> {
  private static final Logger log = LoggerFactory.getLogger(HttpRoutes.class);
  private static final String TEXT = "text/plain; charset=utf-8";

  private final BooleanSupplier live;
  private final BooleanSupplier ready;
  private final HttpEndpoint.Metrics metrics;
  private final Optional<RestApi> rest;
  private final Optional<StatusPage> status;
  private final Optional<LogSettingsApi> logSettings;

  HttpRoutes(BooleanSupplier live, BooleanSupplier ready, HttpEndpoint.Metrics metrics, Optional<RestApi> rest,
      Optional<StatusPage> status, Optional<LogSettingsApi> logSettings) {
    this.status = status;
    this.logSettings = logSettings;
    this.live = live;
    this.ready = ready;
    this.metrics = metrics;
    this.rest = rest;
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
    if (!request.decoderResult().isSuccess()) {
      HttpResponses.error(ctx, false, malformed(request.decoderResult().cause()), Map.of()); // the rest is unreadable
      return;
    }
    String encoding = request.headers().get(HttpHeaderNames.CONTENT_ENCODING);
    if (encoding != null && !HttpHeaderValues.IDENTITY.contentEqualsIgnoreCase(encoding)) {
      // what the decompressor before this handler could not inflate; answered in the REST API's error form
      HttpResponses.error(ctx, HttpUtil.isKeepAlive(request), new HttpErrors.Failure(
          HttpResponseStatus.UNSUPPORTED_MEDIA_TYPE, "Content-Encoding " + HttpErrors.bounded(encoding)
          + " is not supported: send gzip, deflate or identity"), Map.of());
      return;
    }
    String path = request.uri();
    int query = path.indexOf('?');
    if (query >= 0) {
      path = path.substring(0, query);
    }
    HttpMethod method = request.method();
    if (readOnly(path) && !HttpResponses.isRead(method)) {
      notAllowed(ctx, request);
      return;
    }
    switch (path) {
      case "/health/live", "/v2/health/live" -> probe(ctx, request, live);
      case "/health/ready", "/v2/health/ready" -> probe(ctx, request, ready);
      case "/metrics" -> metrics(ctx, request);
      default -> {
        if (status.isPresent() && StatusPage.serves(path)) {
          status.get().handle(ctx, request, path);
          return;
        }
        if (logSettings.isPresent() && LogSettingsApi.serves(path)) {
          logSettings.get().handle(ctx, request);
          return;
        }
        if (rest.isPresent() && RestApi.serves(path)) {
          rest.get().handle(ctx, request, path);
          return;
        }
        // in the REST API's error form, which clients of its endpoints already read
        HttpResponses.error(ctx, HttpUtil.isKeepAlive(request), new HttpErrors.Failure(HttpResponseStatus.NOT_FOUND,
            "no endpoint at " + method.name() + " " + HttpErrors.bounded(path)), Map.of());
      }
    }
  }

  /** What the decoder could not read, said as precisely as HTTP has a status for it. */
  private static HttpErrors.Failure malformed(Throwable cause) {
    if (cause instanceof TooLongHttpLineException) {
      return new HttpErrors.Failure(HttpResponseStatus.REQUEST_URI_TOO_LONG, "the request line is longer than the "
          + HttpEndpoint.MAX_REQUEST_LINE_BYTES + " bytes this server takes");
    }
    if (cause instanceof TooLongHttpHeaderException) {
      return new HttpErrors.Failure(HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "the request's headers are "
          + "larger than the " + HttpEndpoint.MAX_HEADER_BYTES + " bytes this server takes");
    }
    return new HttpErrors.Failure(HttpResponseStatus.BAD_REQUEST, "not a valid HTTP/1.1 request: "
        + HttpErrors.bounded(String.valueOf(cause.getMessage())));
  }

  /** The probes, the metrics and the status page: resources that are only read (the REST API checks its own). */
  private boolean readOnly(String path) {
    return switch (path) {
      case "/health/live", "/v2/health/live", "/health/ready", "/v2/health/ready", "/metrics" -> true;
      default -> status.isPresent() && StatusPage.serves(path);
    };
  }

  private void probe(ChannelHandlerContext ctx, FullHttpRequest request, BooleanSupplier check) {
    boolean ok = check.getAsBoolean();
    byte[] body = (ok ? "OK\n" : "NOT READY\n").getBytes(StandardCharsets.UTF_8);
    send(ctx, request, ok ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE, TEXT, body);
  }

  /** Prometheus' own negotiation: text, OpenMetrics (with exemplars) or protobuf; gzip when asked. */
  private void metrics(ChannelHandlerContext ctx, FullHttpRequest request) {
    try {
      HttpEndpoint.Scrape scrape = metrics.scrape(request.headers().get(HttpHeaderNames.ACCEPT));
      byte[] body = scrape.body();
      Map<String, String> headers = new HashMap<>();
      String encoding = request.headers().get(HttpHeaderNames.ACCEPT_ENCODING);
      if (encoding != null && encoding.contains("gzip")) {
        ByteArrayOutputStream zipped = new ByteArrayOutputStream(body.length / 4 + 64);
        try (GZIPOutputStream gz = new GZIPOutputStream(zipped)) {
          gz.write(body);
        }
        body = zipped.toByteArray();
        headers.put("Content-Encoding", "gzip");
      }
      HttpResponses.send(ctx, HttpUtil.isKeepAlive(request), HttpResponseStatus.OK,
          scrape.contentType(), body, headers);
    } catch (Exception e) {
      log.error("scraping metrics failed", e);
      send(ctx, request, HttpResponseStatus.INTERNAL_SERVER_ERROR, TEXT,
          "metrics failed\n".getBytes(StandardCharsets.UTF_8));
    }
  }

  private static void send(ChannelHandlerContext ctx, FullHttpRequest request, HttpResponseStatus status,
      String contentType, byte[] body) {
    HttpResponses.send(ctx, HttpUtil.isKeepAlive(request), status, contentType, body, Map.of());
  }

  private static void notAllowed(ChannelHandlerContext ctx, FullHttpRequest request) {
    HttpResponses.send(ctx, HttpUtil.isKeepAlive(request), HttpResponseStatus.METHOD_NOT_ALLOWED, TEXT,
        (HttpResponses.READ_METHODS + " only\n").getBytes(StandardCharsets.UTF_8), HttpResponses.ALLOW_READ);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close(); // a client's broken connection: nothing to answer, nothing to log
  }
}
