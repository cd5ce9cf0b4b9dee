package io.junction.server.protocol;

import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * What ServerMetadata and ServerReady report.
 *
 * @param ready whether the server takes inference traffic now
 */
public record ServerInfo(String name, String version, List<String> extensions, BooleanSupplier ready) {
  public ServerInfo {
    extensions = List.copyOf(extensions);
  }
}
