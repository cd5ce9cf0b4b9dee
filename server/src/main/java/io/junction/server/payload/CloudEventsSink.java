package io.junction.server.payload;

import io.junction.server.concurrent.NamedThreadFactory;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Records as CloudEvents over HTTP (binary content mode), with the headers KServe's payload logger
 * uses, so its consumers (Knative eventing brokers, KServe's message dumper, a plain HTTP service)
 * take them unchanged: {@code ce-type: org.kubeflow.serving.inference.request} for a call's inputs and
 * {@code ...response} for its outputs (or error), both with the call's id, {@code ce-source} the server,
 * {@code ce-inferenceservicename} the model. The body is the record's JSON. Sends run concurrently (up
 * to a bound), so one slow receiver delays records, never calls.
 */
final class CloudEventsSink implements PayloadSink {
  static final String REQUEST = "org.kubeflow.serving.inference.request";
  static final String RESPONSE = "org.kubeflow.serving.inference.response";
  private static final int IN_FLIGHT = 16;

  private final URI endpoint;
  private final String source;
  private final HttpClient http;
  private final ExecutorService executor = Executors.newFixedThreadPool(2,
      new NamedThreadFactory("junction-payload-http", true));
  private final Runnable onFailure;
  private final List<CompletableFuture<?>> inFlight = new ArrayList<>();

  /** @param onFailure told of each event the receiver did not take (a metric) */
  CloudEventsSink(URI endpoint, String source, Runnable onFailure) {
    this.endpoint = endpoint;
    this.source = source;
    this.onFailure = onFailure;
    this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).executor(executor).build();
  }

  @Override
  public String name() {
    return "cloudevents";
  }

  @Override
  public void write(PayloadRecord r, byte[] json) throws IOException {
    String id = r.requestId().isEmpty() ? UUID.randomUUID().toString() : r.requestId();
    send(r, id, REQUEST, json);
    send(r, id, RESPONSE, json);
  }

  private void send(PayloadRecord r, String id, String type, byte[] json) throws IOException {
    inFlight.removeIf(CompletableFuture::isDone);
    while (inFlight.size() >= IN_FLIGHT) {
      try {
        CompletableFuture.anyOf(inFlight.toArray(CompletableFuture[]::new)).get();
      } catch (Exception e) {
        // counted where it failed
      }
      inFlight.removeIf(CompletableFuture::isDone);
    }
    HttpRequest request = HttpRequest.newBuilder(endpoint).timeout(Duration.ofSeconds(10))
        .header("Content-Type", "application/json")
        .header("ce-specversion", "1.0")
        .header("ce-id", id)
        .header("ce-type", type)
        .header("ce-source", source)
        .header("ce-time", Instant.ofEpochMilli(r.timeMillis()).toString())
        .header("ce-inferenceservicename", r.model())
        .header("ce-modelid", r.model() + (r.version().isEmpty() ? "" : "/" + r.version()))
        .header("ce-component", "predictor")
        .header("ce-endpoint", r.variant().isEmpty() ? "default" : r.variant())
        .POST(HttpRequest.BodyPublishers.ofByteArray(json)).build();
    inFlight.add(http.sendAsync(request, HttpResponse.BodyHandlers.discarding()).whenComplete((response, error) -> {
      if (error != null || response.statusCode() / 100 != 2) {
        onFailure.run();
      }
    }));
  }

  @Override
  public void flush() {
    // sends are already under way; close waits for them
  }

  @Override
  public void close() {
    try {
      CompletableFuture.allOf(inFlight.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      // what did not arrive by now is counted as failed by its own callback
    }
    executor.shutdownNow();
  }
}
