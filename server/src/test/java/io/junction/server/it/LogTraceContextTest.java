package io.junction.server.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.spi.ILoggingEvent;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import io.junction.proto.admin.v1.PutRouteRequest;
import io.junction.proto.admin.v1.RouteServiceGrpc;
import io.junction.proto.admin.v1.RouteSpec;
import io.junction.proto.admin.v1.VariantSpec;
import io.junction.server.JunctionServer;
import io.junction.server.TestServer;
import io.junction.server.config.ServerConfig;
import io.junction.server.grpc.TracingServerInterceptor;
import io.junction.server.telemetry.Telemetry;
import io.junction.testkit.DemoRepository;
import io.junction.testkit.OtlpReceiver;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * A line logged while a call is served names the call's trace and span in its MDC ({@code trace_id},
 * {@code span_id}: what the text pattern and the JSON encoder write), sampled or not; a line logged outside any
 * call names none. The events are read where logback.xml's TRACE_CONTEXT appender hands them to standard output.
 */
class LogTraceContextTest {
  private static final String TOKEN = "test-admin-token-0123456789";
  private static final String CLIENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";

  @TempDir Path dir;

  @RegisterExtension final WrittenLines written = new WrittenLines();

  @Test
  void linesLoggedWhileACallIsServedNameItsTraceSampledOrNot() throws Exception {
    Path repo = DemoRepository.write(dir.resolve("repo"));
    // Calls are sampled only when their caller's trace is: one call of each kind below.
    try (OtlpReceiver receiver = new OtlpReceiver();
        TestServer server = TestServer.start(new JunctionServer(ServerConfig.loopback(repo).withAdminToken(TOKEN),
            Telemetry.autoconfigured(Map.of("otel.traces.exporter", "otlp", "otel.exporter.otlp.protocol", "grpc",
                "otel.exporter.otlp.endpoint", receiver.endpoint(), "otel.bsp.schedule.delay", "50",
                "otel.traces.sampler", "parentbased_traceidratio", "otel.traces.sampler.arg", "0"))))) {
      AtomicReference<Metadata> headers = new AtomicReference<>();
      Metadata sampled = authorised();
      sampled.put(Metadata.Key.of("traceparent", Metadata.ASCII_STRING_MARSHALLER),
          "00-" + CLIENT_TRACE + "-00f067aa0ba902b7-01");
      admin(server, sampled, headers).putRoute(route("traced"));
      await().atMost(Duration.ofSeconds(10)).until(() -> !receiver.spans.isEmpty());
      String sampledSpan = OtlpReceiver.hex(receiver.spans.get(0).getSpanId());
      assertThat(receiver.spans.get(0).getName()).endsWith("/PutRoute");
      assertThat(line("route 'traced' set").getMDCPropertyMap())
          .containsEntry("trace_id", CLIENT_TRACE)
          .containsEntry("span_id", sampledSpan);

      admin(server, authorised(), headers).putRoute(route("untraced"));
      String unsampledTrace = headers.get().get(TracingServerInterceptor.TRACE_ID);
      assertThat(unsampledTrace).hasSize(32).isNotEqualTo(CLIENT_TRACE);
      assertThat(line("route 'untraced' set").getMDCPropertyMap())
          .as("an unsampled call is named by the trace id it was answered with")
          .containsEntry("trace_id", unsampledTrace)
          .hasEntrySatisfying("span_id", id -> assertThat(id).hasSize(16).isNotEqualTo(sampledSpan));
      server.server().close(); // flushes the exporter
      assertThat(receiver.spans).as("only the sampled call was exported").hasSize(1);
    }

    LoggerFactory.getLogger(LogTraceContextTest.class).info("outside any call");
    assertThat(line("outside any call").getMDCPropertyMap()).doesNotContainKeys("trace_id", "span_id");
  }

  private ILoggingEvent line(String text) {
    return written.first(text);
  }

  private static Metadata authorised() {
    Metadata md = new Metadata();
    md.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + TOKEN);
    return md;
  }

  private static RouteServiceGrpc.RouteServiceBlockingStub admin(TestServer server, Metadata md,
      AtomicReference<Metadata> headers) {
    return RouteServiceGrpc.newBlockingStub(server.channel())
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md),
            MetadataUtils.newCaptureMetadataInterceptor(headers, new AtomicReference<>()))
        .withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  private static PutRouteRequest route(String name) {
    return PutRouteRequest.newBuilder().setRoute(RouteSpec.newBuilder().setName(name)
        .addVariants(VariantSpec.newBuilder().setName("a").setModel("mlp").setVersion("1").setWeight(100))).build();
  }
}
