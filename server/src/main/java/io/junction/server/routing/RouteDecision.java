package io.junction.server.routing;

/**
 * Where a request to a route goes, and why.
 *
 * @param reason {@code pinned} (variant header), {@code version} (explicit model_version), {@code rule},
 *     {@code sticky} (routing key) or {@code weighted}
 */
public record RouteDecision(Route route, Variant variant, String reason) {}
