package io.junction.server.config;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * YAML as Junction reads an operator's files (routes, options): plain data only (maps, lists, scalars; no tags that
 * build objects), a key given twice is an error rather than a silent last-wins, and few aliases (an alias bomb is a
 * few lines of text).
 */
public final class SafeYaml {
  private SafeYaml() {}

  /**
   * The document's maps, lists and scalars; null for an empty one.
   *
   * @throws YAMLException saying where the text is not valid YAML
   */
  public static Object load(String text) {
    LoaderOptions options = new LoaderOptions();
    options.setAllowDuplicateKeys(false);
    options.setMaxAliasesForCollections(10);
    return new Yaml(new SafeConstructor(options)).load(text);
  }
}
