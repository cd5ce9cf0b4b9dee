package io.junction.example;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The published client, alone on the class path, against the server jar in its own process. */
class ScorerTest {
  static Process server;
  static Scorer scorer;

  @BeforeAll
  static void start() throws Exception {
    Path jar = Path.of(System.getProperty("junction.server.jar"));
    assertThat(jar).as("the server jar, built before this module (mvn -B verify from the root)").exists();
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    server = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
        jar.toString(), "--grpc-address", "127.0.0.1", "--grpc-port", Integer.toString(port), "--http-port", "-1")
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    scorer = new Scorer("127.0.0.1:" + port);
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      try {
        if (scorer.ready()) {
          break;
        }
      } catch (RuntimeException e) {
        // not up yet
      }
      assertThat(System.nanoTime()).as("the server became ready within 60 s").isLessThan(until);
      Thread.sleep(200);
    }
  }

  @AfterAll
  static void stop() throws Exception {
    if (scorer != null) {
      scorer.close();
    }
    if (server != null) {
      server.destroy();
      server.waitFor(30, TimeUnit.SECONDS);
    }
  }

  @Test
  void blockingAsyncAndStreamingGiveTheSameScores() throws Exception {
    List<float[]> rows = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      float[] row = new float[8];
      for (int j = 0; j < 8; j++) {
        row[j] = (float) Math.sin(i * 8 + j);
      }
      rows.add(row);
    }
    List<float[]> streamed = scorer.scoreStream(rows);
    for (int i = 0; i < rows.size(); i++) {
      float[] blocking = scorer.score(rows.get(i));
      assertThat(blocking).hasSize(4);
      assertThat(scorer.scoreAsync(rows.get(i)).get()).containsExactly(blocking);
      assertThat(streamed.get(i)).containsExactly(blocking);
    }
  }

  @Test
  void theClientBringsNoNettyOfItsOwnToTheApplication() {
    assertThatThrownBy(() -> Class.forName("io.netty.channel.Channel"))
        .as("only grpc-netty-shaded's relocated Netty").isInstanceOf(ClassNotFoundException.class);
  }

  @Test
  void theBomPinsWhatTheProjectBuildsWith() throws IOException {
    Path root = Path.of(System.getProperty("junction.repository.root"));
    String parent = Files.readString(root.resolve("pom.xml"));
    String bom = Files.readString(root.resolve("bom/pom.xml"));
    for (String property : new String[] {"grpc.version", "protobuf.version", "opentelemetry.version"}) {
      assertThat(value(bom, property)).as(property + " in bom/pom.xml").isEqualTo(value(parent, property));
    }
  }

  private static String value(String pom, String property) {
    Matcher m = Pattern.compile("<" + Pattern.quote(property) + ">([^<]+)</").matcher(pom);
    assertThat(m.find()).as(property).isTrue();
    return m.group(1);
  }
}
