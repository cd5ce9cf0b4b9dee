package io.junction.server.outcomes;

import java.util.List;

/**
 * What became of a batch of feedback. Unknown and expired ids are counted, not errors: a request may
 * have named a model directly, been answered by another replica, or aged out of the ledger.
 *
 * @param accepted joined to the variant that answered and recorded
 * @param unknown ids this server does not know (never routed here, or pushed out by newer requests)
 * @param expired ids known but older than the ledger keeps
 * @param rejected items that were malformed; {@code problems} says why (the first few)
 */
public record FeedbackResult(long accepted, long unknown, long expired, long rejected, List<String> problems) {}
