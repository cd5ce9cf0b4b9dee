package io.junction.server.routing;

/**
 * How a shadow's answer compared with the primary's.
 *
 * @param maxAbsDiff the largest absolute difference over all FP32 outputs both returned; NaN if none
 * @param rows rows compared for argmax (outputs of rank 2)
 * @param argmaxAgreements rows whose largest element sits at the same index in both
 */
public record ShadowComparison(double maxAbsDiff, long rows, long argmaxAgreements) {}
