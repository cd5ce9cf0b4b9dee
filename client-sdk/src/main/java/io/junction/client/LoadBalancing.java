package io.junction.client;

/** How a client spreads calls over the addresses its target resolves to (gRPC load-balancing policies). */
public enum LoadBalancing {
  /** One connection, to the first address that answers; the others are used only if it fails. */
  PICK_FIRST("pick_first"),
  /** A connection to every address, each call to the next ready one. */
  ROUND_ROBIN("round_robin");

  private final String policyName;

  LoadBalancing(String policyName) {
    this.policyName = policyName;
  }

  String policyName() {
    return policyName;
  }
}
