package io.junction.server.routing;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.protobuf.util.JsonFormat;
import io.junction.proto.admin.v1.CanarySpec;
import io.junction.server.errors.FileErrors;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Canary decisions kept across restarts: {@code canaries.json} in the state directory, replaced
 * atomically (written beside it, then renamed over it), so a crash mid-write leaves the previous file.
 * Each entry carries the canary spec it was taken for: a decision applies again only to the same spec.
 */
public final class CanaryStateFile {
  private static final Logger log = LoggerFactory.getLogger(CanaryStateFile.class);
  static final String FILE_NAME = "canaries.json";

  /**
   * One route's canary as last decided.
   *
   * @param decision why it stands where it stands (the status reason at the decision)
   */
  public record Saved(Canary canary, CanaryController.State state, int step, double weight, String decision) {}

  private final Path file;
  private final Gson gson = new Gson();
  private volatile String lastError = "";

  /** @param dir the state directory; created if missing */
  public CanaryStateFile(Path dir) throws IOException {
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new IOException("cannot make the state directory (--state-dir) " + dir + ": " + FileErrors.reason(e), e);
    }
    this.file = dir.resolve(FILE_NAME);
  }

  public Path path() {
    return file;
  }

  /**
   * The decisions saved by the previous run; empty when there is no file. A file that cannot be read is
   * reported and ignored (its canaries start again), so that it never keeps the server from starting.
   */
  public Map<String, Saved> load() {
    Map<String, Saved> saved = new TreeMap<>();
    if (!Files.exists(file)) {
      return saved;
    }
    try {
      JsonObject root = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
      for (Map.Entry<String, JsonElement> e : root.getAsJsonObject("canaries").entrySet()) {
        JsonObject c = e.getValue().getAsJsonObject();
        CanarySpec.Builder spec = CanarySpec.newBuilder();
        JsonFormat.parser().merge(c.get("spec").toString(), spec);
        saved.put(e.getKey(), new Saved(RouteSpecs.canary("route '" + e.getKey() + "'", spec.build()),
            CanaryController.State.valueOf(c.get("state").getAsString()), c.get("step").getAsInt(),
            c.get("weight").getAsDouble(), c.get("decision").getAsString()));
      }
      return saved;
    } catch (IOException | RuntimeException e) {
      log.error("canary state {} cannot be read ({}); its canaries start again from their first step", file,
          e.getMessage());
      return new TreeMap<>();
    }
  }

  /** Replaces the file with {@code canaries}; a failure is logged (once per reason) and serving goes on. */
  public void save(Map<String, Saved> canaries) {
    JsonObject all = new JsonObject();
    try {
      for (Map.Entry<String, Saved> e : new TreeMap<>(canaries).entrySet()) {
        Saved s = e.getValue();
        JsonObject c = new JsonObject();
        c.add("spec", JsonParser.parseString(JsonFormat.printer().preservingProtoFieldNames()
            .print(RouteSpecs.canarySpec(s.canary()))));
        c.addProperty("state", s.state().name());
        c.addProperty("step", s.step());
        c.addProperty("weight", s.weight());
        c.addProperty("decision", s.decision());
        all.add(e.getKey(), c);
      }
      JsonObject root = new JsonObject();
      root.add("canaries", all);
      Path tmp = file.resolveSibling(FILE_NAME + ".tmp");
      Files.writeString(tmp, gson.toJson(root));
      try {
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
      }
      lastError = "";
    } catch (IOException | RuntimeException e) {
      String reason = String.valueOf(e.getMessage());
      if (!reason.equals(lastError)) {
        lastError = reason;
        log.error("cannot save canary state to {}: {}; decisions since will not survive a restart", file, reason);
      }
    }
  }
}
