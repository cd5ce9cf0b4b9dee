package io.junction.server.outcomes;

/**
 * One outcome of one request, reported after the fact: a click (1) or none (0), revenue, a rating.
 *
 * @param requestId the id the caller gave the request, or the trace id Junction returned for it
 *     ({@code x-trace-id})
 * @param outcome the outcome's name, e.g. {@code click}
 */
public record Feedback(String requestId, String outcome, double value) {}
