package io.junction.loadtest;

import io.grpc.Channel;
import java.util.List;
import java.util.Optional;

/** How a load's requests are sent: each as its own ModelInfer call, or one after another over ModelStreamInfer streams. */
public enum InferMethod {
  MODEL_INFER("ModelInfer"),
  MODEL_STREAM_INFER("ModelStreamInfer");

  private static final String SERVICE = "inference.GRPCInferenceService";
  private final String method;

  InferMethod(String method) {
    this.method = method;
  }

  /** The method ghz's {@code --call} names, in either of gRPC's spellings ({@code Service/Method}, {@code Service.Method}). */
  static Optional<InferMethod> named(String call) {
    for (InferMethod m : values()) {
      if (call.equals(SERVICE + "/" + m.method) || call.equals(SERVICE + "." + m.method)) {
        return Optional.of(m);
      }
    }
    return Optional.empty();
  }

  /** The method as ghz's reports spell it, e.g. {@code inference.GRPCInferenceService.ModelInfer}. */
  String reportName() {
    return SERVICE + "." + method;
  }

  /** Sends requests this way over {@code channels}, each request allowed {@code timeoutNanos} (0: no limit). */
  Calls open(List<? extends Channel> channels, long timeoutNanos) {
    return this == MODEL_STREAM_INFER ? new StreamCalls(channels, timeoutNanos) : new UnaryCalls(channels, timeoutNanos);
  }
}
