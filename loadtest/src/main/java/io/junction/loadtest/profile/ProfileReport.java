package io.junction.loadtest.profile;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.util.List;

/** A whole profile: what was swept, every point, and the analysis. */
public record ProfileReport(String model, String version, String target, double latencyBudgetMs, int percentile,
    long durationMillis, long warmupMillis, List<ProfilePoint> points, ProfileAnalysis analysis, List<String> notes) {
  public ProfileReport {
    points = List.copyOf(points);
    notes = List.copyOf(notes);
  }

  static String toJson(ProfileReport r) {
    var gson = new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues().create();
    JsonObject json = new JsonObject();
    json.addProperty("model", r.model());
    json.addProperty("version", r.version());
    json.addProperty("target", r.target());
    json.addProperty("latencyBudgetMs", r.latencyBudgetMs());
    json.addProperty("percentile", r.percentile());
    json.addProperty("durationMs", r.durationMillis());
    json.addProperty("warmupMs", r.warmupMillis());
    json.add("points", gson.toJsonTree(r.points()));
    r.analysis().knee().ifPresent(k -> json.add("knee", gson.toJsonTree(k)));
    json.addProperty("verdict", r.analysis().verdict());
    JsonArray suggestions = new JsonArray();
    for (ProfileAnalysis.Suggestion s : r.analysis().suggestions()) {
      suggestions.add(gson.toJsonTree(s));
    }
    json.add("suggestions", suggestions);
    json.addProperty("config", r.analysis().config());
    json.add("notes", gson.toJsonTree(r.notes()));
    return gson.toJson(json) + "\n";
  }
}
