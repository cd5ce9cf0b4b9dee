package io.junction.server.cli;

import io.junction.server.config.AdminAccess;
import io.junction.server.errors.FileErrors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import picocli.CommandLine.Option;

/** Who holds the admin credential, what it guards, and where the admin service listens. */
public final class AdminOptions {
  /** Who may load and unload models in explicit mode. */
  public enum RepositoryApi { ADMIN, OPEN }

  @Option(names = "--admin-token-file", paramLabel = "FILE",
      description = "File holding the bearer token of the admin service (junction.admin.v1) and of LogSettings "
          + "(/v2/logging); without it the admin service is not served.")
  Path tokenFile;

  @Option(names = "--admin-client-identity", paramLabel = "NAME", split = ",",
      description = "With client certificates (mTLS): a certificate whose subject CN or DNS/URI SAN is NAME is "
          + "the admin credential, as the token is (repeatable or comma-separated).")
  List<String> identities = new ArrayList<>();

  @Option(names = "--repository-api", defaultValue = "admin", paramLabel = "admin|open",
      description = "Who may call RepositoryModelLoad/Unload (explicit mode): only holders of the admin "
          + "credential, or anyone who reaches the inference port (default: ${DEFAULT-VALUE}).")
  RepositoryApi repositoryApi;

  @Option(names = "--admin-port", paramLabel = "PORT",
      description = "Serve the admin service on a listener of its own instead of the inference port.")
  Integer port;

  @Option(names = "--admin-address", defaultValue = AdminAccess.Listener.DEFAULT_ADDRESS, paramLabel = "ADDRESS",
      description = "Interface of the admin listener (default: ${DEFAULT-VALUE}, loopback only).")
  String address;

  /** The admin access; reads the token file. */
  public AdminAccess access() {
    Optional<String> token = Optional.empty();
    if (tokenFile != null) {
      try {
        token = Optional.of(Files.readString(tokenFile).trim());
      } catch (IOException e) {
        throw new IllegalArgumentException("--admin-token-file " + tokenFile + " cannot be read: " + FileErrors.reason(e));
      }
    }
    AdminAccess access = new AdminAccess(token, Set.copyOf(identities), repositoryApi == RepositoryApi.OPEN,
        Optional.empty());
    return port == null ? access : access.withListener(address, port);
  }
}
