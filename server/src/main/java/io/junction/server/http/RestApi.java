package io.junction.server.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.junction.proto.feedback.v1.Outcome;
import io.junction.proto.feedback.v1.RecordRequest;
import io.junction.proto.inference.ModelConfigResponse;
import io.junction.proto.inference.ModelStatisticsResponse;
import io.junction.server.config.AdminAccess;
import io.junction.server.drift.DriftJson;
import io.junction.server.drift.DriftMonitor;
import io.junction.server.errors.InvalidInputException;
import io.junction.server.errors.ModelNotFoundException;
import io.junction.server.inference.InferenceOutcome;
import io.junction.server.inference.InferencePipeline;
import io.junction.server.inference.ModelCatalog;
import io.junction.server.inference.Parameter;
import io.junction.server.inference.RequestContext;
import io.junction.server.model.ModelManager;
import io.junction.server.model.ModelState;
import io.junction.server.model.ServedModel;
import io.junction.server.outcomes.FeedbackResult;
import io.junction.server.outcomes.OutcomeTracker;
import io.junction.server.protocol.FeedbackMapper;
import io.junction.server.protocol.ProtoMapper;
import io.junction.server.protocol.ServerInfo;
import io.junction.server.scheduling.InferenceRequest;
import io.junction.server.telemetry.SpanNames;
import io.junction.server.telemetry.Telemetry;
import io.junction.server.tensor.TensorJson;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * The Open Inference Protocol's HTTP/REST form (KServe v2, with Triton's extensions) on the HTTP port,
 * through the same {@link InferencePipeline} and {@link ModelCatalog} as gRPC: routes, batching, limits,
 * metrics and tracing are the same; failures map to HTTP statuses with {@code {"error": "..."}}.
 *
 * <pre>
 * GET  /v2                                          server metadata
 * GET  /v2/models/{m}[/versions/{v}]                model metadata
 * GET  /v2/models/{m}[/versions/{v}]/ready          200 ready, 400 not
 * GET  /v2/models/{m}[/versions/{v}]/config         config.pbtxt as JSON
 * GET  /v2/models[/{m}[/versions/{v}]]/stats        statistics
 * POST /v2/models/{m}[/versions/{v}]/infer          inference (JSON, or JSON + binary data)
 * GET  /v2/models/{m}[/versions/{v}]/drift          drift report (with --drift)
 * POST /v2/feedback                                 business outcomes of earlier requests (A/B tests)
 * POST /v2/repository/index                         the repository index
 * POST /v2/repository/models/{m}/load | /unload     explicit model control (admin token unless opened)
 * </pre>
 */
public final class RestApi {
  private static final TextMapGetter<HttpHeaders> HEADERS = new TextMapGetter<>() {
    @Override
    public Iterable<String> keys(HttpHeaders carrier) {
      return carrier.names();
    }

    @Override
    public String get(HttpHeaders carrier, String key) {
      return carrier == null ? null : carrier.get(key);
    }
  };

  private final ModelCatalog catalog;
  private final ModelManager models;
  private final InferencePipeline pipeline;
  private final ServerInfo info;
  private final Optional<AdminAccess> repositoryGuard;
  private final Optional<DriftMonitor> drift;
  private final Tracer tracer;
  private final UnaryOperator<Span> requestSpans;
  private final OutcomeTracker outcomes;
  private final TextMapPropagator propagator;
  private final JsonFactory json = TensorJson.newFactory();

  /**
   * @param repositoryGuard who may load and unload: the admin token (the HTTP port has no client
   *     certificates); empty for anyone
   * @param requestSpans what an inference request's span is kept as
   *     ({@link Telemetry#requestSpans()})
   */
  public RestApi(ModelCatalog catalog, ModelManager models, InferencePipeline pipeline, ServerInfo info,
      Optional<AdminAccess> repositoryGuard, Optional<DriftMonitor> drift, OutcomeTracker outcomes, Tracer tracer,
      UnaryOperator<Span> requestSpans, TextMapPropagator propagator) {
    this.outcomes = outcomes;
    this.catalog = catalog;
    this.models = models;
    this.pipeline = pipeline;
    this.info = info;
    this.repositoryGuard = repositoryGuard;
    this.drift = drift;
    this.tracer = tracer;
    this.requestSpans = requestSpans;
    this.propagator = propagator;
  }

  static boolean serves(String path) {
    return path.equals("/v2") || path.startsWith("/v2/models") || path.startsWith("/v2/repository")
        || path.equals("/v2/feedback");
  }

  /** Answers one request; inference answers when its outcome is ready. */
  void handle(ChannelHandlerContext ctx, FullHttpRequest request, String path) {
    boolean keepAlive = HttpUtil.isKeepAlive(request);
    try {
      route(ctx, request, path, keepAlive);
    } catch (MethodNotAllowed e) {
      HttpResponses.error(ctx, keepAlive, HttpErrors.of(e), Map.of(HttpHeaderNames.ALLOW.toString(), e.allow()));
    } catch (RuntimeException e) {
      HttpResponses.error(ctx, keepAlive, HttpErrors.of(e), Map.of());
    }
  }

  private void route(ChannelHandlerContext ctx, FullHttpRequest request, String path, boolean keepAlive) {
    HttpMethod method = request.method();
    List<String> parts = List.of(path.substring(1).split("/", -1)); // "v2", ...
    if (parts.size() == 1) {
      requireMethod(method, HttpMethod.GET, path);
      JsonObject body = new JsonObject();
      body.addProperty("name", info.name());
      body.addProperty("version", info.version());
      JsonArray extensions = new JsonArray();
      info.extensions().forEach(extensions::add);
      body.add("extensions", extensions);
      HttpResponses.json(ctx, keepAlive, HttpResponseStatus.OK, body);
      return;
    }
    if (parts.size() == 2 && parts.get(1).equals("feedback")) {
      requireMethod(method, HttpMethod.POST, path);
      FeedbackResult r = outcomes.record(FeedbackMapper.items(feedbackRequest(request)));
      JsonObject body = new JsonObject(); // every count, zeros too: scripts read them without defaults
      body.addProperty("accepted", r.accepted());
      body.addProperty("unknown", r.unknown());
      body.addProperty("expired", r.expired());
      body.addProperty("rejected", r.rejected());
      JsonArray problems = new JsonArray();
      r.problems().forEach(problems::add);
      body.add("problems", problems);
      HttpResponses.json(ctx, keepAlive, HttpResponseStatus.OK, body);
      return;
    }
    if (parts.get(1).equals("repository")) {
      repository(ctx, request, parts, keepAlive);
      return;
    }
    // /v2/models[/{m}[/versions/{v}]][/{action}]
    if (parts.size() == 3 && parts.get(2).equals("stats")) {
      requireMethod(method, HttpMethod.GET, path);
      stats(ctx, keepAlive, "", "");
      return;
    }
    if (parts.size() < 3 || parts.get(2).isEmpty()) {
      throw new ModelNotFoundException("no REST resource " + HttpErrors.bounded(path));
    }
    String model = decode(parts.get(2));
    String version = "";
    int next = 3;
    if (parts.size() >= 5 && parts.get(3).equals("versions")) {
      version = decode(parts.get(4));
      next = 5;
    }
    String action = parts.size() > next ? parts.get(next) : "";
    if (parts.size() > next + 1) {
      throw new ModelNotFoundException("no REST resource " + HttpErrors.bounded(path));
    }
    switch (action) {
      case "" -> {
        requireMethod(method, HttpMethod.GET, path);
        ModelCatalog.Description d = catalog.describe(model, version);
        HttpResponses.json(ctx, keepAlive, HttpResponseStatus.OK,
            ProtoJson.toJson(ProtoMapper.metadata(d.name(), d.model(), d.versions())));
      }
      case "ready" -> {
        requireMethod(method, HttpMethod.GET, path);
        boolean ready = catalog.isReady(model, version);
        HttpResponses.send(ctx, keepAlive, ready ? HttpResponseStatus.OK : HttpResponseStatus.BAD_REQUEST,
            HttpResponses.TEXT, new byte[0], Map.of());
      }
      case "config" -> {
        requireMethod(method, HttpMethod.GET, path);
        ServedModel served = models.resolve(model, version);
        HttpResponses.json(ctx, keepAlive, HttpResponseStatus.OK,
            ProtoJson.toJson(ModelConfigResponse.newBuilder().setConfig(served.config()).build()).get("config"));
      }
      case "stats" -> {
        requireMethod(method, HttpMethod.GET, path);
        stats(ctx, keepAlive, model, version);
      }
      case "drift" -> {
        requireMethod(method, HttpMethod.GET, path);
        String name = model;
        String v = version;
        var report = drift.orElseThrow(() -> new ModelNotFoundException("drift monitoring is off (--drift true)"))
            .report(name, v).orElseThrow(() -> new ModelNotFoundException("model '" + name + "'"
                + (v.isEmpty() ? "" : " version " + v) + " has no drift reference: put reference.jsonl in its version "
                + "directory or start with --drift-reference-calls N"));
        HttpResponses.json(ctx, keepAlive, HttpResponseStatus.OK, DriftJson.of(report));
      }
      case "infer" -> {
        requireMethod(method, HttpMethod.POST, path);
        infer(ctx, request, model, version, keepAlive);
      }
      default -> throw new ModelNotFoundException("no REST resource " + HttpErrors.bounded(path));
    }
  }

  /** {@code {"outcomes": [...]}} (RecordRequest as JSON), or one outcome on its own. */
  private static RecordRequest feedbackRequest(FullHttpRequest request) {
    String body = request.content().toString(StandardCharsets.UTF_8);
    RecordRequest.Builder b = RecordRequest.newBuilder();
    try {
      JsonObject json = com.google.gson.JsonParser.parseString(body).getAsJsonObject();
      if (json.has("outcomes")) {
        JsonFormat.parser().merge(body, b);
      } else {
        Outcome.Builder one = Outcome.newBuilder();
        JsonFormat.parser().merge(body, one);
        b.addOutcomes(one);
      }
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      throw new InvalidInputException("feedback body must be {\"request_id\": ..., \"outcome\": ..., \"value\": ...} "
          + "or {\"outcomes\": [...]}: " + HttpErrors.jsonProblem(e));
    }
    return b.build();
  }

  private void stats(ChannelHandlerContext ctx, boolean keepAlive, String model, String version) {
    ModelStatisticsResponse.Builder b = ModelStatisticsResponse.newBuilder();
    catalog.statistics(model, version).forEach(m -> b.addModelStats(ProtoMapper.statistics(m)));
    JsonObject body = ProtoJson.toJson(b.build());
    if (!body.has("model_stats")) {
      body.add("model_stats", new JsonArray());
    }
    HttpResponses.json(ctx, keepAlive, HttpResponseStatus.OK, body);
  }

  private void repository(ChannelHandlerContext ctx, FullHttpRequest request, List<String> parts, boolean keepAlive) {
    requireMethod(request.method(), HttpMethod.POST, String.join("/", parts));
    if (parts.size() == 3 && parts.get(2).equals("index")) {
      JsonArray index = new JsonArray();
      for (var e : models.index()) {
        JsonObject entry = new JsonObject();
        entry.addProperty("name", e.name());
        if (!e.version().isEmpty()) {
          entry.addProperty("version", e.version());
        }
        entry.addProperty("state", e.state().name());
        entry.addProperty("reason", e.reason());
        index.add(entry);
      }
      boolean readyOnly = readyOnly(request);
      if (readyOnly) {
        JsonArray ready = new JsonArray();
        for (var e : index) {
          if (ModelState.READY.name().equals(e.getAsJsonObject().get("state").getAsString())) {
            ready.add(e);
          }
        }
        index = ready;
      }
      HttpResponses.json(ctx, keepAlive, HttpResponseStatus.OK, index);
      return;
    }
    if (parts.size() == 5 && parts.get(2).equals("models") && (parts.get(4).equals("load") || parts.get(4).equals("unload"))) {
      if (!authorized(request)) {
        HttpResponses.error(ctx, keepAlive, new HttpErrors.Failure(HttpResponseStatus.UNAUTHORIZED,
            "loading and unloading models needs the admin credential: 'Authorization: Bearer <token>'"
                + (repositoryGuard.orElseThrow().token().isEmpty() ? " (the server has no admin token)" : "")
                + "; or open them to everyone with --repository-api open"), Map.of("WWW-Authenticate", "Bearer"));
        return;
      }
      String model = decode(parts.get(3));
      if (parts.get(4).equals("load")) {
        catalog.load(model, loadParameters(request));
      } else {
        catalog.unload(model);
      }
      HttpResponses.json(ctx, keepAlive, HttpResponseStatus.OK, new JsonObject());
      return;
    }
    throw new ModelNotFoundException("no REST resource /" + HttpErrors.bounded(String.join("/", parts)));
  }

  /**
   * Triton's load request body, {@code {"parameters": {"config": "<model config as JSON>"}}}; parameters
   * are strings, booleans or numbers as in an inference request.
   */
  private Map<String, Parameter> loadParameters(FullHttpRequest request) {
    if (request.content().readableBytes() == 0) {
      return Map.of();
    }
    try (JsonParser parser = json.createParser(ByteBufUtil.getBytes(request.content()))) {
      Map<String, Parameter> parameters = Map.of();
      RestInferCodec.expect(parser, parser.nextToken(), JsonToken.START_OBJECT, "the body must be an object");
      while (parser.nextToken() == JsonToken.FIELD_NAME) {
        boolean isParameters = parser.currentName().equals("parameters");
        JsonToken value = parser.nextToken();
        if (isParameters) {
          parameters = RestInferCodec.parameters(parser, value);
        } else {
          parser.skipChildren();
        }
      }
      return parameters;
    } catch (IOException e) {
      throw new InvalidInputException("the load request body is not JSON like {\"parameters\": {\"config\": \"...\"}}: "
          + HttpErrors.jsonProblem(e));
    }
  }

  /** Triton's index request body, {@code {"ready": true}}: list only ready versions. */
  private static boolean readyOnly(FullHttpRequest request) {
    if (request.content().readableBytes() == 0) {
      return false;
    }
    JsonElement ready;
    try {
      var body = com.google.gson.JsonParser.parseString(request.content().toString(StandardCharsets.UTF_8));
      ready = body.isJsonNull() ? null : body.getAsJsonObject().get("ready");
    } catch (RuntimeException e) { // not JSON, or not an object
      throw new InvalidInputException("the repository index request is not JSON like {\"ready\": true}");
    }
    if (ready != null && !(ready.isJsonPrimitive() && ready.getAsJsonPrimitive().isBoolean())) {
      throw new InvalidInputException("the repository index request's ready must be true or false, got "
          + HttpErrors.bounded(ready.toString()));
    }
    return ready != null && ready.getAsBoolean();
  }

  private boolean authorized(FullHttpRequest request) {
    return repositoryGuard.isEmpty() || repositoryGuard.get().acceptsBearer(request.headers().get("authorization"));
  }

  private void infer(ChannelHandlerContext ctx, FullHttpRequest request, String model, String version, boolean keepAlive) {
    String route = version.isEmpty() ? "/v2/models/{model_name}/infer" : "/v2/models/{model_name}/versions/{model_version}/infer";
    Context parent = propagator.extract(Context.root(), request.headers(), HEADERS);
    Span span = requestSpans.apply(tracer.spanBuilder("POST " + route).setSpanKind(SpanKind.SERVER).setParent(parent)
        .setAttribute(SpanNames.HTTP_METHOD, "POST").setAttribute(SpanNames.HTTP_ROUTE, route).startSpan());
    Map<String, String> headers = new HashMap<>();
    if (span.getSpanContext().isValid()) {
      headers.put("x-trace-id", span.getSpanContext().getTraceId());
    }
    RestInferCodec.Decoded decoded;
    try {
      String length = request.headers().get(RestInferCodec.HEADER_LENGTH);
      int jsonLength = length == null ? -1 : parseLength(length, model);
      decoded = RestInferCodec.decode(json, model, version, ByteBufUtil.getBytes(request.content()), jsonLength);
    } catch (RuntimeException e) {
      fail(ctx, keepAlive, span, headers, HttpErrors.of(e));
      return;
    }
    HttpHeaders requestHeaders = request.headers().copy(); // the request is released when this returns
    RequestContext context = new RequestContext(name -> requestHeaders.get(name), InferenceRequest.NO_DEADLINE,
        () -> !ctx.channel().isActive(), span, true); // on the answers' executor, not the I/O loop
    pipeline.infer(decoded.call(), context).whenComplete((outcome, error) -> {
      InferenceOutcome o = outcome;
      if (o != null && o.route() != null) {
        headers.put("x-junction-route", o.route().route().name());
        headers.put("x-junction-variant", o.route().variant().name());
      }
      if (error != null || !o.succeeded()) {
        fail(ctx, keepAlive, span, headers, HttpErrors.of(error != null ? error : o.failure()));
        return;
      }
      try {
        RestInferCodec.Encoded answer = RestInferCodec.encode(json, o, decoded.allBinary(), decoded.binaryOutputs());
        if (answer.binary()) {
          headers.put(RestInferCodec.HEADER_LENGTH, Integer.toString(answer.jsonLength()));
        }
        span.setAttribute(SpanNames.HTTP_STATUS, 200L);
        HttpResponses.send(ctx, keepAlive, HttpResponseStatus.OK,
            answer.binary() ? "application/octet-stream" : HttpResponses.JSON, answer.body(), headers);
      } catch (RuntimeException e) {
        fail(ctx, keepAlive, span, headers, HttpErrors.of(e));
        return;
      } finally {
        span.end();
        o.releaseOutputs(); // the body holds its own copy of them
      }
    });
  }

  private static void fail(ChannelHandlerContext ctx, boolean keepAlive, Span span, Map<String, String> headers,
      HttpErrors.Failure failure) {
    span.setAttribute(SpanNames.HTTP_STATUS, (long) failure.status().code());
    if (failure.status().code() >= 500) {
      span.setStatus(StatusCode.ERROR, failure.message());
    }
    span.end();
    HttpResponses.error(ctx, keepAlive, failure, headers);
  }

  private static int parseLength(String value, String model) {
    try {
      int n = Integer.parseInt(value.trim());
      if (n < 0) {
        throw new NumberFormatException();
      }
      return n;
    } catch (NumberFormatException e) {
      throw new InvalidInputException("model '" + model + "': " + RestInferCodec.HEADER_LENGTH
          + " must be a non-negative integer, got '" + HttpErrors.bounded(value) + "'");
    }
  }

  /** Refuses any other method with 405; a resource read with GET is also read with HEAD (RFC 9110 §9.3.2). */
  private static void requireMethod(HttpMethod method, HttpMethod expected, String path) {
    boolean read = expected.equals(HttpMethod.GET);
    if (read ? !HttpResponses.isRead(method) : !method.equals(expected)) {
      throw new MethodNotAllowed(expected + " " + HttpErrors.bounded(path) + " only",
          read ? HttpResponses.READ_METHODS : expected.name());
    }
  }

  /**
   * A path segment as text: percent-escapes decoded as UTF-8, '+' left as it is (a path is not a query string, where
   * it would mean a space). A malformed escape is the client's mistake, answered 400.
   */
  static String decode(String segment) {
    try {
      return QueryStringDecoder.decodeComponent(segment.replace("+", "%2B"));
    } catch (IllegalArgumentException e) {
      throw new InvalidInputException("the path segment '" + HttpErrors.bounded(segment)
          + "' is not valid percent-encoding: " + HttpErrors.bounded(e.getMessage()));
    }
  }

  /** A known resource asked for with the wrong method: 405, with the methods it takes as its {@code Allow} header. */
  static final class MethodNotAllowed extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final String allow;

    MethodNotAllowed(String message, String allow) {
      super(message);
      this.allow = allow;
    }

    String allow() {
      return allow;
    }
  }
}
