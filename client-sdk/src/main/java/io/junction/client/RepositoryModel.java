package io.junction.client;

/**
 * One model version of the server's repository: its state (READY, UNAVAILABLE, LOADING, UNLOADING) and
 * the server's reason for it (e.g. why a load failed).
 */
public record RepositoryModel(String name, String version, String state, String reason) {}
