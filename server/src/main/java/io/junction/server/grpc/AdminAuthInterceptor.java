package io.junction.server.grpc;

import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.junction.server.config.AdminAccess;
import java.security.cert.Certificate;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * Lets through only calls that carry the admin credential: {@code authorization: Bearer <admin token>},
 * or a client certificate, verified by the TLS handshake against the client CA, that names one of the
 * admin identities (subject CN, DNS or URI SAN).
 */
final class AdminAuthInterceptor implements ServerInterceptor {
  private static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
  private static final int SAN_DNS = 2;
  private static final int SAN_URI = 6;

  private final AdminAccess access;
  private final Set<String> identities;
  private final String what;
  private final String alternative;

  /**
   * @param what what is guarded, for the refusal's message
   * @param alternative how else the caller could be let in (a flag), or empty
   */
  AdminAuthInterceptor(AdminAccess access, String what, String alternative) {
    this.access = access;
    this.identities = access.clientIdentities();
    this.what = what;
    this.alternative = alternative;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    if (access.acceptsBearer(headers.get(AUTHORIZATION)) || identityMatches(call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION))) {
      return next.startCall(call, headers);
    }
    String how = !access.hasCredential()
        ? "the server has none; start it with --admin-token-file or --admin-client-identity"
        : "present 'authorization: Bearer <token>'" + (identities.isEmpty() ? "" : " or an admin client certificate");
    call.close(Status.UNAUTHENTICATED.withDescription(what + " needs the admin credential: " + how
        + (alternative.isEmpty() ? "" : "; or " + alternative)), new Metadata());
    return new ServerCall.Listener<>() { };
  }

  private boolean identityMatches(SSLSession session) {
    if (identities.isEmpty() || session == null) {
      return false;
    }
    try {
      Certificate[] chain = session.getPeerCertificates(); // verified against the client CA in the handshake
      return chain.length > 0 && chain[0] instanceof X509Certificate leaf
          && names(leaf).stream().anyMatch(identities::contains);
    } catch (SSLPeerUnverifiedException e) {
      return false; // no client certificate (client auth optional)
    }
  }

  /** The subject's CNs and the DNS and URI subject alternative names of a certificate. */
  static List<String> names(X509Certificate cert) {
    List<String> names = new ArrayList<>();
    try {
      for (Rdn rdn : new LdapName(cert.getSubjectX500Principal().getName()).getRdns()) {
        if (rdn.getType().equalsIgnoreCase("CN")) {
          names.add(String.valueOf(rdn.getValue()));
        }
      }
    } catch (InvalidNameException e) {
      // no usable subject: the SANs may still name it
    }
    try {
      Collection<List<?>> sans = cert.getSubjectAlternativeNames();
      if (sans != null) {
        for (List<?> san : sans) {
          if (san.size() >= 2 && san.get(0) instanceof Integer type && (type == SAN_DNS || type == SAN_URI)) {
            names.add(String.valueOf(san.get(1)));
          }
        }
      }
    } catch (CertificateParsingException e) {
      // no usable SANs
    }
    return names;
  }
}
