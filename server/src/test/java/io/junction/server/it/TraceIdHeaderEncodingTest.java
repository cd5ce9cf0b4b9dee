package io.junction.server.it;

import static io.junction.server.InferRequests.rawFp32;
import static io.junction.server.it.HpackFields.Representation.LITERAL_INDEXED;
import static io.junction.server.it.HpackFields.Representation.LITERAL_NEVER_INDEXED;
import static org.assertj.core.api.Assertions.assertThat;

import io.junction.server.JunctionServer;
import io.junction.server.TestServer;
import io.junction.server.config.ServerConfig;
import io.junction.server.telemetry.Telemetry;
import io.junction.testkit.DeepMlp;
import io.junction.server.it.HpackFields.Field;
import io.junction.testkit.ModelRepositoryWriter;
import io.junction.testkit.OtlpReceiver;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The trace id every answer carries ({@code x-trace-id}) is new with every call, so the server sends it as an HPACK
 * literal that is never indexed: were it indexed, each call's id would enter the dynamic table of both ends and push
 * out the headers that calls repeat. Read here off the wire, as HPACK representations, by a client written frame by
 * frame: after the first answer, an answer's headers add nothing to the table.
 */
class TraceIdHeaderEncodingTest {
  private static final int CALLS = 100;

  @TempDir Path repo;

  @Test
  void answersSendTheirTraceIdAsANeverIndexedLiteral() throws Exception {
    new ModelRepositoryWriter(repo).model("m", 1, DeepMlp.seeded(1, 8, 8, 4).onnx()).config("m", "max_batch_size: 8\n");
    byte[] message = rawFp32("m", "", "x", new float[8], 1, 8).toByteArray();
    // Traced, none of it sampled: every call still gets a trace id of its own, and answers with it.
    try (OtlpReceiver receiver = new OtlpReceiver();
        TestServer server = TestServer.start(new JunctionServer(ServerConfig.loopback(repo),
            Telemetry.autoconfigured(Map.of("otel.traces.exporter", "otlp", "otel.exporter.otlp.protocol", "grpc",
                "otel.exporter.otlp.endpoint", receiver.endpoint(), "otel.traces.sampler", "always_off"))));
        RawHttp2Connection connection = new RawHttp2Connection(server.server().grpcPort())) {
      List<List<Field>> answers = new ArrayList<>();
      Set<String> traceIds = new HashSet<>();
      for (int call = 0; call < CALLS; call++) {
        int stream = connection.open("/inference.GRPCInferenceService/ModelInfer");
        connection.send(stream, RawHttp2Connection.prefix(message.length), false);
        connection.send(stream, message, true);
        assertThat(connection.end(stream).get(20, TimeUnit.SECONDS)).as("call %d", call).isEqualTo("grpc-status 0");
        List<List<Field>> blocks = connection.headerBlocks(stream);
        assertThat(blocks).as("call %d: the answer's headers, then its trailers", call).hasSize(2);
        answers.add(blocks.get(0));
        blocks.get(0).stream().filter(f -> f.name().equals("x-trace-id")).forEach(f -> traceIds.add(f.value()));
      }

      assertThat(traceIds).as("a trace id of its own for every call").hasSize(CALLS);
      for (List<Field> answer : answers) {
        assertThat(answer).filteredOn(f -> f.name().equals("x-trace-id")).singleElement()
            .extracting(Field::representation).isEqualTo(LITERAL_NEVER_INDEXED);
      }
      for (List<Field> answer : answers.subList(1, CALLS)) {
        assertThat(answer).as("what an answer's headers add to HPACK's table once the first has been sent")
            .noneMatch(f -> f.representation() == LITERAL_INDEXED);
      }
    }
  }
}
