package io.junction.server.telemetry;

import io.opentelemetry.api.common.AttributeKey;

/**
 * Span names and attribute keys Junction records, documented for SREs in docs/telemetry.md: OpenTelemetry's
 * semantic conventions for the RPC, HTTP and network ones, Junction's own under {@code junction.}.
 */
public final class SpanNames {
  /** A batch execution: its own trace, linked to every request span it served. */
  public static final String BATCH = "junction.batch";
  /** One request of a ModelStreamInfer stream (a child of the stream's server span). */
  public static final String STREAM_REQUEST = "junction.stream_request";

  public static final AttributeKey<String> RPC_SYSTEM = AttributeKey.stringKey("rpc.system");
  public static final AttributeKey<String> RPC_SERVICE = AttributeKey.stringKey("rpc.service");
  public static final AttributeKey<String> RPC_METHOD = AttributeKey.stringKey("rpc.method");
  public static final AttributeKey<Long> RPC_STATUS = AttributeKey.longKey("rpc.grpc.status_code");
  public static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("error.type");
  public static final AttributeKey<String> HTTP_METHOD = AttributeKey.stringKey("http.request.method");
  public static final AttributeKey<String> HTTP_ROUTE = AttributeKey.stringKey("http.route");
  public static final AttributeKey<Long> HTTP_STATUS = AttributeKey.longKey("http.response.status_code");
  public static final AttributeKey<String> PEER_ADDRESS = AttributeKey.stringKey("network.peer.address");
  public static final AttributeKey<Long> PEER_PORT = AttributeKey.longKey("network.peer.port");
  public static final AttributeKey<String> SERVER_ADDRESS = AttributeKey.stringKey("server.address");
  public static final AttributeKey<Long> SERVER_PORT = AttributeKey.longKey("server.port");

  public static final AttributeKey<String> MODEL_NAME = AttributeKey.stringKey("junction.model.name");
  public static final AttributeKey<String> MODEL_VERSION_REQUESTED = AttributeKey.stringKey("junction.model.version_requested");
  public static final AttributeKey<String> MODEL_VERSION = AttributeKey.stringKey("junction.model.version");
  public static final AttributeKey<String> REQUEST_ID = AttributeKey.stringKey("junction.request.id");
  public static final AttributeKey<String> INPUT_SHAPES = AttributeKey.stringKey("junction.request.input_shapes");
  public static final AttributeKey<Long> INPUT_BYTES = AttributeKey.longKey("junction.request.input_bytes");
  public static final AttributeKey<Long> ROWS = AttributeKey.longKey("junction.request.rows");
  public static final AttributeKey<Long> QUEUE_US = AttributeKey.longKey("junction.queue.wait_us");
  public static final AttributeKey<Long> BATCH_SIZE = AttributeKey.longKey("junction.batch.size");
  public static final AttributeKey<Long> BATCH_REQUESTS = AttributeKey.longKey("junction.batch.requests");
  public static final AttributeKey<String> BATCH_TRACE_ID = AttributeKey.stringKey("junction.batch.trace_id");
  public static final AttributeKey<String> BATCH_SPAN_ID = AttributeKey.stringKey("junction.batch.span_id");
  public static final AttributeKey<Long> COMPUTE_INPUT_US = AttributeKey.longKey("junction.compute.input_us");
  public static final AttributeKey<Long> COMPUTE_INFER_US = AttributeKey.longKey("junction.compute.infer_us");
  public static final AttributeKey<Long> COMPUTE_OUTPUT_US = AttributeKey.longKey("junction.compute.output_us");
  public static final AttributeKey<String> ROUTE = AttributeKey.stringKey("junction.route");
  public static final AttributeKey<String> VARIANT = AttributeKey.stringKey("junction.variant");
  public static final AttributeKey<String> ROUTE_REASON = AttributeKey.stringKey("junction.route.reason");
  public static final AttributeKey<String> BACKEND = AttributeKey.stringKey("junction.backend");
  public static final AttributeKey<String> DEVICE = AttributeKey.stringKey("junction.device");
  public static final AttributeKey<String> RESPONSE_CACHE = AttributeKey.stringKey("junction.response_cache");

  private SpanNames() {}
}
