package io.junction.server.cli;

import io.junction.server.config.FeedbackConfig;
import java.time.Duration;
import picocli.CommandLine.Option;

/** How long routed requests are remembered so that feedback can be joined to the variant that answered. */
public final class FeedbackOptions {
  @Option(names = "--feedback-ledger-size", defaultValue = "500000", paramLabel = "N",
      description = "Routed requests remembered so that feedback (POST /v2/feedback, FeedbackService) can be joined "
          + "to the variant that answered; about 120 bytes each (default: ${DEFAULT-VALUE}).")
  int ledgerSize;

  @Option(names = "--feedback-ttl", defaultValue = "60m", paramLabel = "DURATION", converter = DurationConverter.class,
      description = "How long after its answer a request's feedback still counts (default: ${DEFAULT-VALUE}).")
  Duration ttl;

  public FeedbackConfig feedback() {
    Positive.number("--feedback-ledger-size", ledgerSize);
    return new FeedbackConfig(ledgerSize, Positive.duration("--feedback-ttl", ttl));
  }
}
