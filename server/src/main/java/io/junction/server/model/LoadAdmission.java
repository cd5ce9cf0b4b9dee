package io.junction.server.model;

import io.junction.server.device.DeviceId;
import io.junction.server.errors.QueueFullException;
import java.util.Map;

/**
 * Decides whether a model may load: every load (at start, by poll, by RepositoryModelLoad, on a
 * request) asks it first, so a memory budget holds whichever way a model comes in.
 */
@FunctionalInterface
public interface LoadAdmission {
  /** Admits everything: no memory budget. */
  LoadAdmission UNLIMITED = (name, neededBytes, heldBytes) -> {};

  /**
   * Makes room for the load or refuses it. Called with the model lock held, so room made here is not
   * taken by another load before this one.
   *
   * @param neededBytes what the load is expected to hold, per device it is placed on
   * @param heldBytes what the model's serving versions hold now, per device (a reload replaces them)
   * @throws QueueFullException when it does not fit, naming the budget,
   *     the need and what holds the memory
   */
  void admit(String name, Map<DeviceId, Long> neededBytes, Map<DeviceId, Long> heldBytes);
}
