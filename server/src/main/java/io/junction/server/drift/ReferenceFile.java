package io.junction.server.drift;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * A version's reference data: {@code reference.jsonl} (or {@code .jsonl.gz}) in its directory, one call
 * per line in the payload log's record format ({@code "inputs"} and, optionally, {@code "outputs"}: arrays
 * of {@code {"name", "shape", "data"}}), so a day of payload logs from a good period is a reference as it
 * is. Lines with summaries instead of data are skipped.
 */
final class ReferenceFile {
  static final List<String> NAMES = List.of("reference.jsonl", "reference.jsonl.gz");
  /** Lines read at most: the bins need a sample, not everything. */
  static final int MAX_LINES = 100_000;

  private ReferenceFile() {}

  /** Feeds each call of the file to {@code tracker}, then freezes its reference. */
  static void load(Path file, DriftTracker tracker) throws IOException {
    try (InputStream raw = Files.newInputStream(file);
        InputStream in = file.toString().endsWith(".gz") ? new GZIPInputStream(raw) : raw;
        BufferedReader lines = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      String line;
      int n = 0;
      while ((line = lines.readLine()) != null && n < MAX_LINES) {
        if (line.isBlank()) {
          continue;
        }
        n++;
        JsonObject call;
        try {
          call = JsonParser.parseString(line).getAsJsonObject();
        } catch (RuntimeException e) {
          throw new IOException("line " + n + " of " + file.getFileName() + " is not a JSON object: " + e.getMessage(), e);
        }
        tracker.addReference(samples(call.getAsJsonArray("inputs"), false), samples(call.getAsJsonArray("outputs"), true));
      }
    }
    tracker.ready(file.getFileName().toString());
  }

  private static List<Features.Sample> samples(JsonArray tensors, boolean outputs) {
    List<Features.Sample> out = new ArrayList<>();
    if (tensors == null) {
      return out;
    }
    for (JsonElement e : tensors) {
      JsonObject t = e.getAsJsonObject();
      if (!t.has("data") || !t.has("shape") || !t.get("data").isJsonArray()) {
        continue;
      }
      JsonArray shapeJson = t.getAsJsonArray("shape");
      long[] shape = new long[shapeJson.size()];
      for (int i = 0; i < shape.length; i++) {
        shape[i] = shapeJson.get(i).getAsLong();
      }
      List<Double> values = new ArrayList<>();
      flatten(t.get("data"), values);
      double[] flat = values.stream().mapToDouble(Double::doubleValue).toArray();
      out.addAll(Features.split(t.get("name").getAsString(), Values.of(shape, flat), outputs));
    }
    return out;
  }

  private static void flatten(JsonElement e, List<Double> into) {
    if (e.isJsonArray()) {
      e.getAsJsonArray().forEach(x -> flatten(x, into));
    } else if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber()) {
      into.add(e.getAsDouble());
    } else if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isBoolean()) {
      into.add(e.getAsBoolean() ? 1.0 : 0.0);
    }
  }
}
