package io.junction.server.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.SpanLimits;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The request span against the real SDK: what it hands over, in which order, and what it drops. */
class RequestSpanTest {
  private static final AttributeKey<String> PEER = SpanNames.PEER_ADDRESS;
  private static final AttributeKey<Long> STATUS = SpanNames.RPC_STATUS;
  private static final AttributeKey<String> UNKNOWN = AttributeKey.stringKey("something.else");

  private final InMemorySpanExporter exporter = InMemorySpanExporter.create();
  private SdkTracerProvider provider;

  private Tracer tracer(int attributeCountLimit, Sampler sampler) {
    provider = SdkTracerProvider.builder()
        .setSampler(sampler)
        .setSpanLimits(SpanLimits.builder().setMaxNumberOfAttributes(attributeCountLimit).build())
        .addSpanProcessor(SimpleSpanProcessor.create(exporter))
        .build();
    return provider.get("test");
  }

  @AfterEach
  void close() {
    if (provider != null) {
      provider.close();
    }
  }

  @Test
  void aLimitKeepsTheMostImportantAttributesWhateverOrderTheyWereSetIn() {
    Span span = RequestSpan.of(tracer(3, Sampler.alwaysOn()).spanBuilder("call").startSpan());
    span.setAttribute(UNKNOWN, "first set, not ranked");
    span.setAttribute(SpanNames.INPUT_SHAPES, "x[1, 8]");
    span.setAttribute(PEER, "10.0.0.1");
    span.setAttribute(SpanNames.QUEUE_US, 12L);
    span.setAttribute(SpanNames.MODEL_NAME, "mlp");
    span.setAttribute(STATUS, 0L); // known last, at the call's close
    span.end();

    SpanData data = exporter.getFinishedSpanItems().get(0);
    assertThat(data.getAttributes().asMap()).containsOnlyKeys(STATUS, SpanNames.MODEL_NAME, SpanNames.QUEUE_US);
    assertThat(data.getTotalAttributeCount()).isEqualTo(6);
  }

  @Test
  void unrankedAttributesFollowInTheOrderSetAndALaterValueOfAKeyWins() {
    Span span = RequestSpan.of(tracer(128, Sampler.alwaysOn()).spanBuilder("call").startSpan());
    span.setAttribute(STATUS, 1L);
    span.setAttribute(UNKNOWN, "a");
    span.setAttribute(STATUS, 0L);
    span.setAttribute(AttributeKey.stringKey("zz.second"), "b");
    span.end();

    SpanData data = exporter.getFinishedSpanItems().get(0);
    assertThat(data.getAttributes().get(STATUS)).isEqualTo(0L);
    assertThat(data.getAttributes().asMap()).hasSize(3);
  }

  @Test
  void statusLinksAndEventsGoStraightThroughAndNothingIsTakenAfterTheEnd() {
    Span span = RequestSpan.of(tracer(128, Sampler.alwaysOn()).spanBuilder("call").startSpan());
    SpanContext batch = SpanContext.create("0123456789abcdef0123456789abcdef", "0123456789abcdef",
        TraceFlags.getSampled(), TraceState.getDefault());
    span.addLink(batch);
    span.setStatus(StatusCode.ERROR, "failed");
    span.recordException(new IllegalStateException("boom"));
    span.setAttribute(SpanNames.MODEL_NAME, "mlp");
    assertThat(span.isRecording()).isTrue();
    span.end();
    span.setAttribute(SpanNames.QUEUE_US, 5L); // a cancelled call's batch finishing late
    span.end();

    assertThat(span.isRecording()).isFalse();
    assertThat(exporter.getFinishedSpanItems()).hasSize(1);
    SpanData data = exporter.getFinishedSpanItems().get(0);
    assertThat(data.getLinks()).extracting(l -> l.getSpanContext()).containsExactly(batch);
    assertThat(data.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
    assertThat(data.getEvents()).extracting(e -> e.getName()).containsExactly("exception");
    assertThat(data.getAttributes().asMap()).containsOnlyKeys(SpanNames.MODEL_NAME);
    assertThat(span.getSpanContext()).isEqualTo(data.getSpanContext());
  }

  @Test
  void aCallThatIsNotSampledKeepsItsSpanUnwrapped() {
    Span span = tracer(128, Sampler.alwaysOff()).spanBuilder("call").startSpan();
    assertThat(RequestSpan.of(span)).isSameAs(span);
    assertThat(RequestSpan.of(Span.getInvalid())).isSameAs(Span.getInvalid());
  }
}
