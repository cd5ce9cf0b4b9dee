package io.junction.server.grpc;

import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import io.junction.server.model.ModelManager;

/**
 * Keeps {@code grpc.health.v1.Health} in step with the models: one service name per model (SERVING
 * while it has a ready version) and the empty name for the whole server.
 */
public final class ModelHealthPublisher implements ModelManager.Listener {
  private final HealthStatusManager health;

  public ModelHealthPublisher(HealthStatusManager health) {
    this.health = health;
  }

  @Override
  public void modelChanged(String name, boolean ready) {
    health.setStatus(name, ready ? ServingStatus.SERVING : ServingStatus.NOT_SERVING);
  }

  public void serverReady(boolean ready) {
    health.setStatus(HealthStatusManager.SERVICE_NAME_ALL_SERVICES,
        ready ? ServingStatus.SERVING : ServingStatus.NOT_SERVING);
  }

  /** Shutting down: every check answers NOT_SERVING from now on. */
  public void shutdown() {
    health.enterTerminalState();
  }
}
