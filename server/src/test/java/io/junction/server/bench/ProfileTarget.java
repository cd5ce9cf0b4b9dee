package io.junction.server.bench;

import io.junction.proto.inference.ModelInferRequest;
import io.junction.server.InferRequests;
import io.junction.server.TestServer;
import io.junction.testkit.DeepMlp;
import io.junction.testkit.ModelRepositoryWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A steady load for profiling: 64 closed-loop callers on the batch-friendly MLP (512→2048→2048→512)
 * with dynamic batching, for the milliseconds given after a 5 s warm-up. Run it under JFR, e.g.
 * {@code java -XX:StartFlightRecording=delay=6s,duration=15s,filename=/tmp/prof.jfr,settings=profile
 * -cp <test classpath> io.junction.server.bench.ProfileTarget 15000}, then read per-thread CPU with
 * {@code jfr print --events jdk.ThreadCPULoad /tmp/prof.jfr}.
 */
public final class ProfileTarget {
  private ProfileTarget() {}

  public static void main(String[] a) throws Exception {
    DeepMlp big = DeepMlp.seeded(1, 512, 2048, 2048, 512);
    Path repo = Files.createTempDirectory("prof");
    new ModelRepositoryWriter(repo).model("big_b", 1, big.onnx()).config("big_b",
        "max_batch_size: 128\ninstance_group [ { count: 2 kind: KIND_CPU } ]\n"
        + "dynamic_batching { preferred_batch_size: [ 32, 64, 128 ] max_queue_delay_microseconds: 2000 }\n");
    try (TestServer server = TestServer.start(repo)) {
      var stub = server.blocking().withDeadlineAfter(1, TimeUnit.HOURS);
      ModelInferRequest req = InferRequests.rawFp32("big_b", "", "x", InferRequests.ramp(512, 0.01f), 1, 512);
      ClosedLoop.Result r = ClosedLoop.run(64, 5000, Long.parseLong(a[0]), () -> stub.modelInfer(req));
      System.out.printf("c=64 %.0f/s p50 %.0f us%n", r.callsPerSecond(), r.p50Micros());
    }
  }
}
