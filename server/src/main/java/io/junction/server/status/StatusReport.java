package io.junction.server.status;

import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import io.junction.server.drift.DriftJson;
import io.junction.server.drift.DriftMonitor;
import io.junction.server.model.ModelIndexEntry;
import io.junction.server.model.ModelManager;
import io.junction.server.model.ModelStats;
import io.junction.server.model.ServedModel;
import io.junction.server.outcomes.OutcomeTracker;
import io.junction.server.outcomes.RouteOutcomes;
import io.junction.server.protocol.ServerInfo;
import io.junction.server.routing.CanaryController;
import io.junction.server.routing.Route;
import io.junction.server.routing.RouteRegistry;
import io.junction.server.routing.Variant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * What the status page shows, as one JSON document ({@code GET /v2/status}): the server, every model
 * version with its state, memory and load time and each model's last minutes of traffic, every route
 * with its variants' shares, canary and its decisions, shadow agreement and business outcomes, and drift.
 * Read-only and free of secrets: no tokens, no payloads, no file paths.
 */
public final class StatusReport implements Supplier<JsonObject> {
  private final ServerInfo info;
  private final long startedMillis = System.currentTimeMillis();
  private final ModelManager models;
  private final RouteRegistry routes;
  private final CanaryController canaries;
  private final OutcomeTracker outcomes;
  private final Optional<DriftMonitor> drift;
  private final StatusHistory history;

  public StatusReport(ServerInfo info, ModelManager models, RouteRegistry routes, CanaryController canaries,
      OutcomeTracker outcomes, Optional<DriftMonitor> drift, StatusHistory history) {
    this.info = info;
    this.models = models;
    this.routes = routes;
    this.canaries = canaries;
    this.outcomes = outcomes;
    this.drift = drift;
    this.history = history;
  }

  @Override
  public JsonObject get() {
    JsonObject out = new JsonObject();
    JsonObject server = new JsonObject();
    server.addProperty("name", info.name());
    server.addProperty("version", info.version());
    server.addProperty("ready", info.ready().getAsBoolean());
    server.addProperty("uptime_seconds", (System.currentTimeMillis() - startedMillis) / 1000);
    server.addProperty("interval_seconds", history.interval().toMillis() / 1000.0);
    out.add("server", server);
    out.add("models", models());
    out.add("routes", routes());
    out.add("drift", drift());
    return out;
  }

  private JsonArray models() {
    Map<String, ServedModel> served = new TreeMap<>();
    models.readyModels().forEach(m -> served.put(m.name() + "/" + m.version(), m));
    Map<String, List<StatusHistory.Point>> series = history.series();
    Map<String, JsonObject> byName = new TreeMap<>();
    for (ModelIndexEntry e : models.index()) {
      JsonObject model = byName.computeIfAbsent(e.name(), name -> {
        JsonObject m = new JsonObject();
        m.addProperty("name", name);
        m.add("versions", new JsonArray());
        m.add("series", series(series.getOrDefault(name, List.of())));
        return m;
      });
      JsonObject v = new JsonObject();
      v.addProperty("version", e.version());
      v.addProperty("state", e.state().name());
      v.addProperty("reason", e.reason());
      ServedModel m = served.get(e.name() + "/" + e.version());
      if (m != null) {
        v.addProperty("memory_bytes", m.footprintBytes());
        v.addProperty("load_seconds", m.loadMillis() / 1000.0);
        v.addProperty("in_flight", m.inFlight());
        JsonArray devices = new JsonArray();
        m.instances().forEach(i -> devices.add(i.device() + " x" + i.count()));
        v.add("devices", devices);
        if (m.enablesResponseCache()) {
          ModelStats.Snapshot stats = m.stats().snapshot();
          JsonObject cache = new JsonObject();
          cache.addProperty("hits", stats.cacheHit().count());
          cache.addProperty("misses", stats.cacheMiss().count());
          v.add("response_cache", cache);
        }
      }
      model.getAsJsonArray("versions").add(v);
    }
    JsonArray all = new JsonArray();
    byName.values().forEach(all::add);
    return all;
  }

  private static JsonArray series(List<StatusHistory.Point> points) {
    JsonArray out = new JsonArray();
    for (StatusHistory.Point p : points) {
      JsonObject o = new JsonObject();
      o.addProperty("t", p.epochMillis());
      o.addProperty("rps", round(p.requestsPerSecond()));
      o.addProperty("error_ratio", round(p.errorRatio()));
      number(o, "p50_ms", p.p50Millis());
      number(o, "p99_ms", p.p99Millis());
      number(o, "mean_batch", p.meanBatch());
      out.add(o);
    }
    return out;
  }

  private JsonArray routes() {
    JsonArray out = new JsonArray();
    Map<String, double[]> agreement = history.shadowAgreement();
    for (Route r : routes.current().routes().values()) {
      JsonObject route = new JsonObject();
      route.addProperty("name", r.name());
      route.addProperty("mode", r.bandit().isPresent() ? "bandit" : r.canary().isPresent() ? "canary" : "split");
      double total = r.variants().stream().mapToDouble(Variant::weight).sum();
      JsonArray variants = new JsonArray();
      for (Variant v : r.variants()) {
        JsonObject o = new JsonObject();
        o.addProperty("name", v.name());
        o.addProperty("model", v.model());
        o.addProperty("version", v.version());
        o.addProperty("share", round(total > 0 ? 100 * v.weight() / total : 0));
        variants.add(o);
      }
      route.add("variants", variants);
      canaries.status(r.name()).ifPresent(s -> route.add("canary", canary(s, canaries.history(r.name()))));
      r.shadow().ifPresent(s -> {
        JsonObject shadow = new JsonObject();
        shadow.addProperty("model", s.model());
        shadow.addProperty("version", s.version());
        shadow.addProperty("fraction", s.fraction());
        double[] rows = agreement.get(r.name() + "/" + s.model());
        if (rows != null && rows[0] + rows[1] > 0) {
          shadow.addProperty("argmax_agreement", round(rows[0] / (rows[0] + rows[1])));
          shadow.addProperty("rows_compared", (long) (rows[0] + rows[1]));
        }
        route.add("shadow", shadow);
      });
      route.add("outcomes", outcomes(outcomes.report(r.name(), r.variants().stream().map(Variant::name).toList(),
          0.95)));
      out.add(route);
    }
    return out;
  }

  private static JsonObject canary(CanaryController.Status s, List<CanaryController.Decision> decisions) {
    JsonObject c = new JsonObject();
    c.addProperty("variant", s.canary());
    c.addProperty("baseline", s.baseline());
    c.addProperty("state", s.state().name());
    c.addProperty("step", s.step());
    c.addProperty("weight", s.canaryWeight());
    c.addProperty("reason", s.reason());
    JsonArray history = new JsonArray();
    for (CanaryController.Decision d : decisions) {
      JsonObject o = new JsonObject();
      o.addProperty("t", d.epochMillis());
      o.addProperty("weight", d.weight());
      o.addProperty("what", d.what());
      history.add(o);
    }
    c.add("history", history);
    return c;
  }

  private static JsonArray outcomes(RouteOutcomes report) {
    JsonArray out = new JsonArray();
    report.outcomes().forEach((name, rows) -> {
      JsonObject o = new JsonObject();
      o.addProperty("outcome", name);
      JsonArray variants = new JsonArray();
      rows.forEach(r -> {
        JsonObject v = new JsonObject();
        v.addProperty("variant", r.variant());
        v.addProperty("count", r.summary().count());
        number(v, "mean", r.summary().mean());
        number(v, "ci_low", r.interval().low());
        number(v, "ci_high", r.interval().high());
        v.addProperty("binary", r.summary().binary());
        variants.add(v);
      });
      o.add("variants", variants);
      JsonArray comparisons = new JsonArray();
      report.comparisons().get(name).forEach(c -> {
        JsonObject v = new JsonObject();
        v.addProperty("variant", c.variant());
        v.addProperty("control", c.control());
        v.addProperty("test", c.comparison().test());
        number(v, "difference", c.comparison().difference());
        number(v, "ci_low", c.comparison().interval().low());
        number(v, "ci_high", c.comparison().interval().high());
        number(v, "p_value", c.comparison().pValue());
        v.addProperty("significant", c.comparison().significant());
        v.addProperty("note", c.comparison().note());
        comparisons.add(v);
      });
      o.add("comparisons", comparisons);
      out.add(o);
    });
    return out;
  }

  private JsonArray drift() {
    JsonArray out = new JsonArray();
    if (drift.isEmpty()) {
      return out;
    }
    for (ServedModel m : models.readyModels()) {
      drift.get().report(m.name(), Long.toString(m.version())).ifPresent(r -> out.add(DriftJson.of(r)));
    }
    return out;
  }

  /** JSON has no NaN: a figure that does not exist yet is null. */
  private static void number(JsonObject o, String name, double value) {
    if (Double.isFinite(value)) {
      o.addProperty(name, round(value));
    } else {
      o.add(name, JsonNull.INSTANCE);
    }
  }

  private static double round(double v) {
    return Double.isFinite(v) ? Math.round(v * 1e6) / 1e6 : 0;
  }
}
