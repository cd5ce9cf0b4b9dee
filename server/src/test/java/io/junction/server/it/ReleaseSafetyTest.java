package io.junction.server.it;

import static io.junction.server.InferRequests.floats;
import static io.junction.server.InferRequests.rawFp32;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.junction.proto.inference.ModelInferResponse;
import io.junction.proto.inference.RepositoryIndexRequest;
import io.junction.proto.inference.RepositoryIndexResponse.ModelIndex;
import io.junction.proto.inference.RepositoryModelLoadRequest;
import io.junction.server.TestServer;
import io.junction.server.config.ModelControl;
import io.junction.server.config.ServerConfig;
import io.junction.server.model.ModelManager;
import io.junction.testkit.Mlp;
import io.junction.testkit.ModelRepositoryWriter;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Releases that go wrong, over the wire: a reload that fails, or a model file still being copied in,
 * never takes down the version that was serving (Triton's rule: a failed reload leaves the loaded
 * model unchanged).
 */
class ReleaseSafetyTest {
  private static final Duration POLL = Duration.ofMillis(200);
  private static final byte[] GARBAGE = "this is not an ONNX model".getBytes(StandardCharsets.UTF_8);

  @TempDir Path repo;

  /**
   * Callers that keep calling a model and count what failed, checking every answer against the models
   * that may serve the version that answered.
   */
  private static final class Callers implements AutoCloseable {
    final AtomicLong answered = new AtomicLong();
    final Set<String> failures = ConcurrentHashMap.newKeySet();
    final Set<String> versions = ConcurrentHashMap.newKeySet();
    /** The models whose answers came back. */
    final Set<Mlp> served = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final ExecutorService pool = Executors.newFixedThreadPool(4);
    private final List<Future<?>> loops;

    Callers(TestServer server, String model, Function<String, List<Mlp>> expectedByVersion) {
      loops = IntStream.range(0, 4).<Future<?>>mapToObj(c -> pool.submit(() -> {
        float[] x = {c, 1, -2, 3};
        while (running.get()) {
          try {
            ModelInferResponse r = server.blocking().modelInfer(rawFp32(model, "", "x", x, 1, 4));
            float[] y = floats(r, 0);
            Mlp match = expectedByVersion.apply(r.getModelVersion()).stream()
                .filter(m -> close(m.expected(x, 1), y)).findFirst().orElse(null);
            assertThat(match).as("answer %s of version %s", Arrays.toString(y), r.getModelVersion())
                .isNotNull();
            served.add(match);
            versions.add(r.getModelVersion());
            answered.incrementAndGet();
          } catch (StatusRuntimeException e) {
            failures.add(e.getStatus().getCode() + ": " + e.getStatus().getDescription());
          }
        }
      })).toList();
    }

    private static boolean close(float[] want, float[] got) {
      if (want.length != got.length) {
        return false;
      }
      for (int i = 0; i < want.length; i++) {
        if (Math.abs(want[i] - got[i]) > 1e-4f) {
          return false;
        }
      }
      return true;
    }

    @Override
    public void close() throws Exception {
      running.set(false);
      for (Future<?> f : loops) {
        f.get(30, TimeUnit.SECONDS); // a wrong answer surfaces here
      }
      pool.shutdown();
    }
  }

  @Test
  void aReloadThatFailsInPollModeLeavesTheServingVersionServing() throws Exception {
    Mlp v1 = Mlp.seeded(4, 2, 1);
    Mlp fixed = Mlp.seeded(4, 2, 7);
    ModelRepositoryWriter writer = new ModelRepositoryWriter(repo).model("alpha", 1, v1.onnx())
        .config("alpha", "max_batch_size: 4\n");
    try (TestServer server = TestServer.start(ServerConfig.loopback(repo).withControl(ModelControl.poll(POLL)))) {
      try (Callers callers = new Callers(server, "alpha", version -> List.of(v1, fixed))) {
        writer.file("alpha", "1/model.onnx", GARBAGE);
        await().atMost(Duration.ofSeconds(10)).until(() -> index(server).stream().anyMatch(m ->
            m.getName().equals("alpha") && m.getReason().contains("reload failed")));
        ModelIndex alpha = index(server).stream().filter(m -> m.getName().equals("alpha")).findFirst().orElseThrow();
        assertThat(alpha.getState()).isEqualTo("READY");
        assertThat(alpha.getReason()).contains("serving the previous load", "version 1");
        long before = callers.answered.get();
        await().atMost(Duration.ofSeconds(10)).until(() -> callers.answered.get() > before + 50);
        assertThat(callers.failures).isEmpty();
        assertThat(callers.served).containsExactly(v1);
        String metrics = new String(server.server().metricsScrape(), StandardCharsets.UTF_8);
        assertThat(metrics).contains("junction_model_reload_failures_total{model=\"alpha\"} 1");

        // A good file later is picked up as usual.
        writer.model("alpha", 1, fixed.onnx());
        await().atMost(Duration.ofSeconds(10)).until(() -> callers.served.contains(fixed));
        assertThat(index(server)).noneMatch(m -> m.getReason().contains("reload failed"));
        assertThat(callers.failures).isEmpty();
      }
    }
  }

  @Test
  void anExplicitLoadOfACorruptFileIsRefusedAndTheModelServesOn() throws Exception {
    Mlp v1 = Mlp.seeded(4, 2, 1);
    ModelRepositoryWriter writer = new ModelRepositoryWriter(repo).model("alpha", 1, v1.onnx())
        .config("alpha", "max_batch_size: 4\n");
    try (TestServer server = TestServer.start(ServerConfig.loopback(repo)
        .withControl(ModelControl.explicit(Set.of("*"))).withOpenRepositoryApi());
        Callers callers = new Callers(server, "alpha", version -> List.of(v1))) {
      writer.file("alpha", "1/model.onnx", GARBAGE);
      assertThatThrownBy(() -> server.blocking().repositoryModelLoad(
          RepositoryModelLoadRequest.newBuilder().setModelName("alpha").build()))
          .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(e.getStatus().getDescription()).contains("failed to load model 'alpha'",
                "serving the previous load", "version 1");
          });
      long before = callers.answered.get();
      await().atMost(Duration.ofSeconds(10)).until(() -> callers.answered.get() > before + 50);
      assertThat(callers.failures).isEmpty();
    }
  }

  @Test
  void aModelFileCopiedInSlowlyNeverInterruptsTheServingVersion() throws Exception {
    Mlp v1 = Mlp.seeded(4, 2, 1);
    Mlp v2 = Mlp.seeded(4, 2, 2);
    // latest 1: version 2, once it loads, replaces version 1.
    new ModelRepositoryWriter(repo).model("alpha", 1, v1.onnx()).config("alpha", "max_batch_size: 4\n");
    try (TestServer server = TestServer.start(ServerConfig.loopback(repo).withControl(ModelControl.poll(POLL)));
        Callers callers = new Callers(server, "alpha", version -> List.of(version.equals("1") ? v1 : v2))) {
      byte[] model = v2.onnx();
      Path file = Files.createDirectories(repo.resolve("alpha/2")).resolve("model.onnx");
      try (OutputStream out = Files.newOutputStream(file)) {
        // Half the file, then a pause of several polls, as a slow copy of a large file would leave it.
        out.write(model, 0, model.length / 2);
        out.flush();
        Thread.sleep(5 * POLL.toMillis());
        out.write(model, model.length / 2, model.length - model.length / 2);
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> callers.versions.contains("2"));
      assertThat(callers.failures).isEmpty();
    }
  }

  @Test
  void aModelThatKeepsFailingIsLoggedOnceAndRetriedLessAndLess() throws Exception {
    ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(
        ModelManager.class);
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> events =
        new ch.qos.logback.core.read.ListAppender<>();
    events.start();
    ch.qos.logback.classic.Level level = logger.getLevel();
    logger.setLevel(ch.qos.logback.classic.Level.DEBUG);
    logger.addAppender(events);
    try {
      ModelRepositoryWriter writer = new ModelRepositoryWriter(repo).model("alpha", 1, Mlp.seeded(4, 2, 1).onnx())
          .file("broken", "1/model.onnx", GARBAGE);
      try (TestServer server = TestServer.start(ServerConfig.loopback(repo).withControl(ModelControl.poll(POLL)))) {
        long start = System.nanoTime();
        // Retries of the same files come after 1, 2, 4 and 8 polls: four take at least 15 polls (3 s);
        // retried on every poll they would take 4.
        await().atMost(Duration.ofSeconds(30)).until(() -> count(events, "broken", "again") >= 4);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(POLL.multipliedBy(14));
        assertThat(count(events, "broken", "failed to load:")).as("ERROR lines").isEqualTo(1);

        writer.model("broken", 1, Mlp.seeded(4, 2, 2).onnx()); // fixed files are tried at once
        await().atMost(Duration.ofSeconds(10)).until(() -> index(server).stream().anyMatch(m ->
            m.getName().equals("broken") && m.getState().equals("READY")));
      }
    } finally {
      logger.detachAppender(events);
      logger.setLevel(level);
    }
  }

  private static long count(ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> events,
      String model, String text) {
    synchronized (events) { // AppenderBase appends under the appender's lock
      return events.list.stream().filter(e -> e.getFormattedMessage().contains("'" + model + "'")
          && e.getFormattedMessage().contains(text)).count();
    }
  }

  private static List<ModelIndex> index(TestServer server) {
    return server.blocking().repositoryIndex(RepositoryIndexRequest.getDefaultInstance()).getModelsList();
  }
}
