package io.junction.server.it;

import static io.junction.server.InferRequests.rawFp32;
import static org.assertj.core.api.Assertions.assertThat;

import io.junction.server.TestServer;
import io.junction.testkit.Mlp;
import io.junction.testkit.ModelRepositoryWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Triton's {@code optimization} block for ONNX models: graph levels load, accelerators this build lacks are skipped. */
class OptimizationPolicyTest {
  @TempDir Path repo;

  @Test
  void graphLevelsAndAcceleratorsThisBuildLacksLoadAndAnUnknownAcceleratorFailsItsModelAlone() throws Exception {
    byte[] onnx = Mlp.seeded(4, 2, 1).onnx();
    new ModelRepositoryWriter(repo)
        .model("basic", 1, onnx).config("basic", "max_batch_size: 4\noptimization { graph { level: -1 } }\n")
        .model("extended", 1, onnx).config("extended", "max_batch_size: 4\noptimization { graph { level: 1 } }\n")
        .model("gpu_only_accelerator", 1, onnx).config("gpu_only_accelerator", """
            max_batch_size: 4
            optimization { execution_accelerators { gpu_execution_accelerator [ { name: "tensorrt" } ] } }
            instance_group [ { kind: KIND_CPU } ]
            """)
        .model("openvino", 1, onnx).config("openvino", """
            max_batch_size: 4
            optimization { execution_accelerators { cpu_execution_accelerator [ { name: "openvino" } ] } }
            """)
        .model("unknown", 1, onnx).config("unknown", """
            max_batch_size: 4
            optimization { execution_accelerators { cpu_execution_accelerator [ { name: "warp_drive" } ] } }
            """);

    try (TestServer server = TestServer.start(repo)) {
      for (String ready : new String[] {"basic", "extended", "gpu_only_accelerator", "openvino"}) {
        assertThat(server.indexEntry(ready).getState()).as(ready + ": " + server.indexEntry(ready).getReason())
            .isEqualTo("READY");
        assertThat(server.blocking().modelInfer(rawFp32(ready, "", "x", new float[4], 1, 4)).getOutputsCount())
            .isEqualTo(1);
      }
      assertThat(server.indexEntry("unknown").getReason()).contains("execution accelerator 'warp_drive' is not one");
    }
  }
}
