package io.junction.loadtest.profile;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The server's memory as its Prometheus endpoint reports it: what a model's versions hold
 * ({@code junction_model_footprint_bytes{measure="resident"}}, measured at load) and the process's
 * resident memory ({@code process_resident_memory_bytes}). Servers without these series read as unknown (-1).
 */
final class ServerMemory {
  /** One reading; -1 for what the endpoint did not say. */
  record Reading(long modelFootprintBytes, long processBytes) {
    static final Reading UNKNOWN = new Reading(-1, -1);
  }

  private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{[^}]*\\})?\\s+(\\S+)");

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final URI metrics;

  ServerMemory(URI metrics) {
    this.metrics = metrics;
  }

  URI uri() {
    return metrics;
  }

  /** @throws IOException when the endpoint cannot be read */
  Reading read(String model) throws IOException {
    HttpResponse<String> response;
    try {
      response = http.send(HttpRequest.newBuilder(metrics).timeout(Duration.ofSeconds(5)).build(),
          HttpResponse.BodyHandlers.ofString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while reading " + metrics, e);
    }
    if (response.statusCode() != 200) {
      throw new IOException(metrics + " answered HTTP " + response.statusCode());
    }
    return parse(response.body(), model);
  }

  static Reading parse(String text, String model) {
    long footprint = -1;
    long process = -1;
    String modelLabel = "model=\"" + model + "\"";
    for (String line : text.split("\n")) {
      Matcher m = SAMPLE.matcher(line);
      if (line.startsWith("#") || !m.find()) {
        continue;
      }
      String labels = m.group(2) == null ? "" : m.group(2);
      long value = (long) Double.parseDouble(m.group(3));
      if (m.group(1).equals("junction_model_footprint_bytes") && labels.contains(modelLabel)
          && labels.contains("measure=\"resident\"")) {
        footprint = Math.max(0, footprint) + value;
      } else if (m.group(1).equals("process_resident_memory_bytes")) {
        process = value;
      }
    }
    return new Reading(footprint, process);
  }
}
