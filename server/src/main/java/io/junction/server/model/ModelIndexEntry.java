package io.junction.server.model;

/**
 * One line of the repository index: a model version's state and why it is in it. {@code version} is
 * empty for a state of the whole model (e.g. a config that does not parse).
 */
public record ModelIndexEntry(String name, String version, ModelState state, String reason) {}
