package io.junction.server.inference;

import io.junction.proto.inference.ModelConfig;
import io.junction.server.backend.ModelLoadException;
import io.junction.server.config.ModelControl;
import io.junction.server.errors.InvalidInputException;
import io.junction.server.errors.JunctionException;
import io.junction.server.errors.ModelNotFoundException;
import io.junction.server.errors.RepositoryApiDisabledException;
import io.junction.server.model.ModelManager;
import io.junction.server.model.ServedModel;
import io.junction.server.routing.Route;
import io.junction.server.routing.RouteRegistry;
import io.junction.server.routing.Variant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * What clients may ask of models and routes outside inference, whatever the transport: readiness and
 * metadata (a route answers for its variants), and the repository control an operator may exercise,
 * with its guards (explicit control mode; no unloading of a model a route sends traffic to).
 */
public final class ModelCatalog {
  /** Triton's load parameter that replaces a model's config.pbtxt. */
  public static final String CONFIG_PARAMETER = "config";

  /**
   * A model's (or a route's) description.
   *
   * @param name the name asked for: a model's, or a route's
   * @param model the version that describes it
   * @param versions the ready versions to list; empty for a route, whose variants are its business
   */
  public record Description(String name, ServedModel model, List<ServedModel> versions) {}

  private final ModelManager models;
  private final RouteRegistry routes;
  private final ModelControl control;

  public ModelCatalog(ModelManager models, RouteRegistry routes, ModelControl control) {
    this.models = models;
    this.routes = routes;
    this.control = control;
  }

  /** A route is ready when every variant that takes traffic is; unknown names are simply not ready, as in Triton. */
  public boolean isReady(String name, String version) {
    try {
      Optional<Route> route = routes.current().route(name);
      if (route.isEmpty()) {
        return !models.resolve(name, version).isRetired();
      }
      for (Variant v : route.get().variants()) {
        if (v.weight() > 0 && models.resolve(v.model(), v.version()).isRetired()) {
          return false;
        }
      }
      return true;
    } catch (JunctionException e) {
      return false;
    }
  }

  /**
   * @throws ModelNotFoundException when there is no such model or version
   */
  public Description describe(String name, String version) {
    Optional<Route> route = routes.current().route(name);
    if (route.isPresent()) {
      // A route describes itself by its first variant taking traffic: variants share a signature.
      Variant v = route.get().variants().stream().filter(x -> x.weight() > 0).findFirst().orElseThrow();
      return new Description(name, models.resolve(v.model(), v.version()), List.of());
    }
    ServedModel model = models.resolve(name, version);
    return new Description(model.name(), model, models.readyVersions(model.name()));
  }

  /**
   * The versions whose statistics a client asks for: every ready version of every model (no name), of
   * one model (no version), or the one named.
   *
   * @throws ModelNotFoundException for an unknown model or version, or a
   *     model without a ready version
   */
  public List<ServedModel> statistics(String name, String version) {
    if (name.isEmpty()) {
      return models.modelNames().stream().flatMap(n -> models.readyVersions(n).stream()).toList();
    }
    if (version.isEmpty()) {
      List<ServedModel> versions = models.readyVersions(name);
      if (versions.isEmpty()) {
        throw new ModelNotFoundException("model '" + name + "' has no ready version");
      }
      return versions;
    }
    return List.of(models.resolve(name, version));
  }

  /**
   * Loads (or reloads) a model from the repository.
   *
   * @throws RepositoryApiDisabledException unless the server runs in explicit control mode
   * @throws InvalidInputException with every failed version's reason when the load failed
   */
  public void load(String name) {
    load(name, Map.of());
  }

  /**
   * Loads (or reloads) a model with Triton's load parameters: {@code config}, the model's config as JSON,
   * takes the place of its config.pbtxt until the model is loaded again without one. Triton's {@code
   * file:<version>/<name>} parameters are refused: no API writes files a client names.
   *
   * @throws InvalidInputException also for another parameter, or a config that is not valid
   */
  public void load(String name, Map<String, Parameter> parameters) {
    requireExplicitMode("load", name);
    Optional<ModelConfig> config = Optional.empty();
    for (Map.Entry<String, Parameter> p : parameters.entrySet()) {
      if (p.getKey().startsWith("file:")) {
        throw new InvalidInputException("model '" + name + "': load parameter '" + p.getKey() + "' would write a file "
            + "the client names, which Junction never does; copy model files into the model repository instead");
      }
      if (!p.getKey().equals(CONFIG_PARAMETER)) {
        throw new InvalidInputException("model '" + name + "': load parameter '" + p.getKey() + "' is not supported; "
            + "the one load parameter is '" + CONFIG_PARAMETER + "', a string holding the model config as JSON");
      }
      if (p.getValue().text() == null) {
        throw new InvalidInputException("model '" + name + "': load parameter '" + CONFIG_PARAMETER + "' must be a "
            + "string holding the model config as JSON, got " + p.getValue().value());
      }
      try {
        config = Optional.of(models.repository().parseConfigOverride(name, p.getValue().text()));
      } catch (ModelLoadException e) {
        throw new InvalidInputException(e.getMessage());
      }
    }
    if (!models.load(name, config)) {
      throw new InvalidInputException("failed to load model '" + name + "': " + models.index().stream()
          .filter(e -> e.name().equals(name))
          .map(e -> (e.version().isEmpty() ? "" : "version " + e.version() + ": ") + e.reason())
          .reduce((a, c) -> a + "; " + c).orElse("no version loaded"));
    }
  }

  /**
   * Unloads every version of a model once its in-flight requests are done.
   *
   * @throws RepositoryApiDisabledException unless in explicit control mode, or while a route uses it
   */
  public void unload(String name) {
    requireExplicitMode("unload", name);
    List<String> users = routes.routesUsing(name);
    if (!users.isEmpty()) {
      throw new RepositoryApiDisabledException("cannot unload model '" + name + "': routes " + users
          + " send traffic to it; change or delete those routes first");
    }
    models.unload(name);
  }

  private void requireExplicitMode(String action, String model) {
    if (!control.allowsRepositoryApi()) {
      throw new RepositoryApiDisabledException("cannot " + action + " model '" + model + "': explicit model "
          + action + " needs --model-control-mode explicit (this server runs in "
          + control.mode().name().toLowerCase(Locale.ROOT) + " mode)");
    }
  }
}
