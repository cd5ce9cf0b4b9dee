package io.junction.server.drift;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;

/** A drift report as the HTTP API answers it. */
public final class DriftJson {
  private DriftJson() {}

  public static JsonObject of(DriftTracker.Report r) {
    JsonObject out = new JsonObject();
    out.addProperty("model", r.model());
    out.addProperty("version", Long.toString(r.version()));
    out.addProperty("state", r.state().name());
    JsonObject reference = new JsonObject();
    reference.addProperty("source", r.reference());
    reference.addProperty("calls", r.referenceCalls());
    out.add("reference", reference);
    JsonObject window = new JsonObject();
    window.addProperty("calls", r.windowCalls());
    window.addProperty("size", r.windowSize());
    out.add("window", window);
    out.addProperty("drifted_at_psi", DriftTracker.DRIFTED);
    JsonArray inputs = new JsonArray();
    JsonArray outputs = new JsonArray();
    for (DriftTracker.FeatureDrift f : r.features()) {
      JsonObject feature = new JsonObject();
      feature.addProperty("name", f.name());
      feature.addProperty("psi", f.psi());
      feature.addProperty("ks", f.ks());
      feature.addProperty("drifted", f.psi() >= DriftTracker.DRIFTED);
      (f.output() ? outputs : inputs).add(feature);
    }
    out.add("inputs", inputs);
    out.add("outputs", outputs);
    return out;
  }
}
