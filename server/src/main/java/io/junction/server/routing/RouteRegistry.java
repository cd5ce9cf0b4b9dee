package io.junction.server.routing;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiPredicate;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * The route table in force. Readers take the current immutable snapshot; an update validates the new
 * table and swaps it in atomically, so a request sees either the old table or the new one, never a mix.
 */
public final class RouteRegistry {
  private final AtomicReference<RouteTable> current = new AtomicReference<>(RouteTable.EMPTY);
  private final Predicate<String> modelExists;
  private final BiPredicate<String, String> versionServed;

  /**
   * @param modelExists whether a model of that name is in the repository (for validation)
   * @param versionServed whether that model's version policy serves that version
   */
  public RouteRegistry(Predicate<String> modelExists, BiPredicate<String, String> versionServed) {
    this.modelExists = Objects.requireNonNull(modelExists, "modelExists");
    this.versionServed = Objects.requireNonNull(versionServed, "versionServed");
  }

  /** Routes whose variants or shadow use {@code model}, for refusing to unload it under them. */
  public List<String> routesUsing(String model) {
    return current.get().routes().values().stream()
        .filter(r -> r.variants().stream().anyMatch(v -> v.model().equals(model) && v.weight() > 0)
            || r.shadow().map(s -> s.model().equals(model)).orElse(false))
        .map(Route::name).sorted().toList();
  }

  public RouteTable current() {
    return current.get();
  }

  /**
   * Decisions taken at run time (a canary's current weights) laid over every table that comes in, so that
   * a reload of the routes file that does not change a canary's spec does not undo its promotion or
   * rollback. Applied after validation, under this registry's lock.
   */
  private volatile UnaryOperator<RouteTable> overlay = UnaryOperator.identity();

  /**
   * Lays {@code decisions} (a canary's or a bandit's weights) over every table that comes in, after the
   * overlays added before it.
   */
  public synchronized void overlay(UnaryOperator<RouteTable> decisions) {
    Objects.requireNonNull(decisions, "decisions");
    UnaryOperator<RouteTable> before = this.overlay;
    this.overlay = table -> decisions.apply(before.apply(table));
  }

  /**
   * Replaces the table, or throws (keeping the running one) when the new one is invalid.
   *
   * @throws IllegalArgumentException saying what is wrong
   */
  public synchronized void replace(RouteTable table) {
    current.set(overlay.apply(table.validate(modelExists, versionServed)));
  }

  /** Adds or replaces one route; the whole new table is validated first. */
  public synchronized void put(Route route) {
    Map<String, Route> next = new LinkedHashMap<>(current.get().routes());
    next.put(route.name(), route);
    replace(new RouteTable(next));
  }

  /** Removes a route; false when there was none of that name. */
  public synchronized boolean delete(String name) {
    Map<String, Route> next = new LinkedHashMap<>(current.get().routes());
    if (next.remove(name) == null) {
      return false;
    }
    current.set(new RouteTable(next));
    return true;
  }
}
