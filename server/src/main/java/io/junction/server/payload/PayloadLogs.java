package io.junction.server.payload;

import io.junction.server.config.PayloadLogConfig;
import io.junction.server.errors.FileErrors;
import io.junction.server.telemetry.Telemetry;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Builds the payload logger and its sinks from the server's configuration. */
public final class PayloadLogs {
  private static final Logger log = LoggerFactory.getLogger(PayloadLogs.class);

  private PayloadLogs() {}

  /** @param source the CloudEvents source: the server's name */
  public static PayloadLogger start(PayloadLogConfig config, Telemetry telemetry, String source,
      PrometheusRegistry metrics) {
    List<PayloadSink> sinks = new ArrayList<>();
    try {
      if (config.dir().isPresent()) {
        sinks.add(new JsonLinesFileSink(config.dir().get(), config.maxFileBytes(), config.maxFileAge().toMillis(),
            config.maxTotalBytes(), Clock.systemUTC()));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write payload logs to " + config.dir().get() + ": " + FileErrors.reason(e),
          e);
    }
    if (config.otlp()) {
      sinks.add(new OtlpLogSink(telemetry.payloadLogger()));
    }
    PayloadLogger[] logger = new PayloadLogger[1];
    config.cloudEvents().ifPresent(url -> sinks.add(new CloudEventsSink(url, source,
        () -> logger[0].failureCounter("cloudevents").run())));
    logger[0] = new PayloadLogger(config.policy(), sinks, config.queueCapacity(), metrics);
    log.info("payload logging to {} (sample rate {}, {} bytes per tensor before summaries)",
        sinks.stream().map(PayloadSink::name).toList(), config.policy().sampleRate(), config.policy().maxTensorBytes());
    return logger[0];
  }
}
