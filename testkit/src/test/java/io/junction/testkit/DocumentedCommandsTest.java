package io.junction.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class DocumentedCommandsTest {
  @Test
  void commandsAreReadAsAShellReadsThem() {
    assertThat(DocumentedCommands.in("junction-loadtest.jar", List.of(
        "java -jar loadtest/target/junction-loadtest.jar --target localhost:8001 --model scorer \\",
        "    -m '{\"x-routing-key\":\"user-7\"}' -n 1000      # a route",
        "no command here",
        "java -jar junction-loadtest.jar -n 5 localhost:8001 2>&1 | tee out.txt",
        "java -jar junction-loadtest.jar -n 5 localhost:8001 &",
        "Run `java -jar loadtest/target/junction-loadtest.jar --insecure -z \"1m30s\" localhost:8001`.")))
        .containsExactly(
            List.of("--target", "localhost:8001", "--model", "scorer", "-m", "{\"x-routing-key\":\"user-7\"}", "-n",
                "1000"),
            List.of("-n", "5", "localhost:8001"),
            List.of("-n", "5", "localhost:8001"),
            List.of("--insecure", "-z", "1m30s", "localhost:8001"));
  }
}
