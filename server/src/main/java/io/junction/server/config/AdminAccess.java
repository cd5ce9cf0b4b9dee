package io.junction.server.config;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Who may change what the server serves, and where they reach it. The admin credential is a bearer
 * token, or a client certificate (mTLS) naming one of {@code clientIdentities}; it guards the admin
 * service (routes, canaries) and, unless {@code repositoryApiOpen}, RepositoryModelLoad/Unload, as
 * Triton's restricted protocols do.
 *
 * @param token the bearer token ({@code authorization: Bearer <token>}); at least 16 characters
 * @param clientIdentities subject CNs or DNS/URI SANs of verified client certificates that count as admin
 * @param repositoryApiOpen let anyone who reaches the inference port load and unload models (explicit
 *     mode), without the admin credential
 * @param listener a listener of its own for the admin service; empty: it shares the inference port
 */
public record AdminAccess(Optional<String> token, Set<String> clientIdentities, boolean repositoryApiOpen,
    Optional<Listener> listener) {
  /** Where the admin service listens when it has a port of its own (loopback by default). */
  public record Listener(String address, int port) {
    public static final String DEFAULT_ADDRESS = "127.0.0.1";

    public Listener {
      Objects.requireNonNull(address, "address");
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("the admin port must be 0..65535, got " + port);
      }
    }
  }

  public static final AdminAccess NONE = new AdminAccess(Optional.empty(), Set.of(), false, Optional.empty());

  public AdminAccess {
    Objects.requireNonNull(token, "token");
    clientIdentities = Set.copyOf(clientIdentities);
    Objects.requireNonNull(listener, "listener");
    if (token.isPresent() && token.get().length() < 16) {
      throw new IllegalArgumentException("the admin token must have at least 16 characters");
    }
  }

  /** Whether any admin credential is configured (without one there is no admin service). */
  public boolean hasCredential() {
    return token.isPresent() || !clientIdentities.isEmpty();
  }

  /**
   * Whether an {@code authorization} header carries the token. Constant-time: the time taken must not
   * tell how much of a guess was right.
   */
  public boolean acceptsBearer(String authorization) {
    return token.isPresent() && authorization != null && MessageDigest.isEqual(
        ("Bearer " + token.get()).getBytes(StandardCharsets.UTF_8),
        authorization.getBytes(StandardCharsets.UTF_8));
  }

  public AdminAccess withToken(String newToken) {
    return new AdminAccess(Optional.of(newToken), clientIdentities, repositoryApiOpen, listener);
  }

  public AdminAccess withClientIdentities(Set<String> identities) {
    return new AdminAccess(token, identities, repositoryApiOpen, listener);
  }

  public AdminAccess withRepositoryApiOpen(boolean open) {
    return new AdminAccess(token, clientIdentities, open, listener);
  }

  public AdminAccess withListener(String address, int port) {
    return new AdminAccess(token, clientIdentities, repositoryApiOpen, Optional.of(new Listener(address, port)));
  }
}
