package io.junction.server.telemetry;

import io.opentelemetry.api.common.AttributeKey;

/** Span names and attribute keys Junction records, documented for SREs in docs/telemetry.md. */
public final class SpanNames {
  /** A batch execution: its own trace, linked to every request span it served. */
  public static final String BATCH = "junction.batch";
  /** One request of a ModelStreamInfer stream (a child of the stream's server span). */
  public static final String STREAM_REQUEST = "junction.stream_request";

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

  private SpanNames() {}
}
