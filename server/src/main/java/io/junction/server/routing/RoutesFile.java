package io.junction.server.routing;

import com.google.gson.Gson;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.junction.proto.admin.v1.RouteSpec;
import io.junction.server.config.SafeYaml;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * Reads routes from YAML:
 *
 * <pre>
 * routes:
 *   - name: classifier
 *     variants:
 *       - { name: stable, model: resnet, version: "1", weight: 95 }
 *       - { name: canary, model: resnet, version: "2", weight: 5 }
 *     rules:
 *       - { header: x-tenant, value: acme, variant: canary }
 *     shadow: { model: resnet, version: "3", fraction: 0.1 }   # optional: mirror 10 % of requests
 *     canary:            # optional: promote step by step, roll back on an SLO breach
 *       variant: canary
 *       baseline: stable
 *       steps: [5, 25, 50, 100]
 *       min_requests: 100
 *       min_seconds: 60
 *       max_error_rate_increase: 0.01
 *       max_p99_ratio: 2.0
 * </pre>
 *
 * Each route has the fields of the admin API's {@code junction.admin.v1.RouteSpec}, with the same names and
 * defaults ({@link RouteSpecs}). Only plain maps, lists and scalars are read (SnakeYAML's safe constructor): a routes file cannot make
 * the server build arbitrary objects.
 */
public final class RoutesFile {
  private static final int MAX_BYTES = 1 << 20;
  private static final Gson JSON = new Gson();

  private RoutesFile() {}

  /** @throws IllegalArgumentException saying where the file is wrong */
  public static RouteTable parse(String yaml) {
    if (yaml.length() > MAX_BYTES) {
      throw new IllegalArgumentException("the routes file is larger than " + MAX_BYTES + " bytes");
    }
    Object root;
    try {
      root = SafeYaml.load(yaml);
    } catch (YAMLException e) {
      throw new IllegalArgumentException("the routes file is not valid YAML: " + e.getMessage(), e);
    }
    if (root == null) {
      return RouteTable.EMPTY;
    }
    if (!(root instanceof Map<?, ?> top)) {
      throw new IllegalArgumentException("the routes file must be a mapping with a 'routes' list");
    }
    if (!top.keySet().equals(Set.of("routes")) || !(top.get("routes") instanceof List<?> list)) {
      throw new IllegalArgumentException("the routes file must have exactly one key, 'routes', a list; it has "
          + top.keySet());
    }
    List<Route> routes = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      routes.add(RouteSpecs.toDomain(spec(list.get(i), i)));
    }
    return RouteTable.of(routes);
  }

  /**
   * One route of the file, read into the admin API's {@code RouteSpec} (the same field names), so that
   * the file and the API cannot drift apart. Unknown keys are errors: a misspelt key is not ignored.
   */
  private static RouteSpec spec(Object route, int index) {
    String where = route instanceof Map<?, ?> m && m.get("name") != null
        ? "route '" + m.get("name") + "'" : "route #" + (index + 1);
    if (!(route instanceof Map<?, ?>)) {
      throw new IllegalArgumentException(where + " must be a mapping");
    }
    RouteSpec.Builder spec = RouteSpec.newBuilder();
    try {
      JsonFormat.parser().merge(JSON.toJson(route), spec);
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
    }
    return spec.build();
  }
}
