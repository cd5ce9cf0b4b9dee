package io.junction.loadtest.bench;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.junction.proto.inference.GRPCInferenceServiceGrpc;
import io.junction.proto.inference.ServerReadyRequest;
import java.io.IOException;
import java.net.ServerSocket;
import java.util.concurrent.TimeUnit;

/** What the benchmark drivers need of the servers they start in other processes: a port, and readiness. */
final class Servers {
  private static final long READY_SECONDS = 90;

  private Servers() {}

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** Waits until the server behind {@code channel} says it is ready, at most 90 s. */
  static void awaitReady(ManagedChannel channel, String what) throws InterruptedException {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(READY_SECONDS);
    while (true) {
      try {
        if (GRPCInferenceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(2, TimeUnit.SECONDS)
            .serverReady(ServerReadyRequest.getDefaultInstance()).getReady()) {
          return;
        }
      } catch (StatusRuntimeException e) {
        // not up yet
      }
      if (System.nanoTime() > until) {
        throw new IllegalStateException(what + " did not become ready in " + READY_SECONDS + " s");
      }
      Thread.sleep(200);
    }
  }
}
