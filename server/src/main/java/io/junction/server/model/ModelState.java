package io.junction.server.model;

/** Lifecycle of a model version, named as Triton's RepositoryIndex names them. */
public enum ModelState {
  /** Not loaded: never asked for, unloaded, or failed to load (the reason says which). */
  UNAVAILABLE,
  LOADING,
  READY,
  UNLOADING
}
