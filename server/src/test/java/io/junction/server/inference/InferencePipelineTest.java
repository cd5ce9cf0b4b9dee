package io.junction.server.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.junction.server.backend.BackendRegistry;
import io.junction.server.errors.InvalidInputException;
import io.junction.server.errors.ModelNotFoundException;
import io.junction.server.model.ModelAccess;
import io.junction.server.model.ModelConfigResolver;
import io.junction.server.model.ModelManager;
import io.junction.server.repository.ModelRepository;
import io.junction.server.routing.RouteRegistry;
import io.junction.server.routing.RoutesFile;
import io.junction.server.routing.ShadowTraffic;
import io.junction.server.scheduling.BatchingScheduler;
import io.junction.server.scheduling.InferenceRequest;
import io.junction.server.tensor.DataType;
import io.junction.server.tensor.Tensor;
import io.junction.testkit.DemoRepository;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.TracerProvider;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pipeline with real parts and no transport: a call built from plain values, as a REST front end
 * would build it, served by the demo model through routing and batching, and seen by listeners.
 */
class InferencePipelineTest {
  private static final String ROUTES = """
      routes:
        - name: scorer
          variants:
            - { name: stable, model: mlp, version: 1, weight: 100 }
            - { name: next, model: mlp, version: 2, weight: 0 }
      """;

  @TempDir Path dir;
  private ModelManager models;
  private BatchingScheduler scheduler;
  private ShadowTraffic shadows;
  private final List<InferenceOutcome> seen = new CopyOnWriteArrayList<>();
  private final List<InferenceCall> accepted = new CopyOnWriteArrayList<>();
  /** When set, listeners told that a call is answering count this down, then wait for {@link #answeringReleased}. */
  private volatile CountDownLatch answeringSeen;
  private final CountDownLatch answeringReleased = new CountDownLatch(1);
  /** The thread that told listeners a call is answering, once one has. */
  private volatile String answeringThread = "";
  private InferencePipeline pipeline;

  @BeforeEach
  void setUp() {
    models = new ModelManager(new ModelRepository(DemoRepository.write(dir)), BackendRegistry.discover(),
        new ModelConfigResolver(4, Set.of()));
    models.loadAll();
    scheduler = new BatchingScheduler(1, 16, TracerProvider.noop().get("test"));
    shadows = new ShadowTraffic(4, new PrometheusRegistry());
    RouteRegistry routes = new RouteRegistry(name -> name.equals("mlp"), (name, version) -> true);
    routes.replace(RoutesFile.parse(ROUTES));
    InferenceListener recorder = new InferenceListener() {
      @Override
      public void accepted(InferenceCall call, RequestContext context) {
        accepted.add(call);
      }

      @Override
      public void answering(InferenceOutcome outcome) {
        CountDownLatch seen = answeringSeen;
        if (seen != null) {
          answeringThread = Thread.currentThread().getName();
          seen.countDown();
          try {
            answeringReleased.await(10, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
      }

      @Override
      public void completed(InferenceOutcome outcome) {
        // Tensors are views valid during the call: read what the test checks now.
        seen.add(outcome);
      }
    };
    InferenceListener broken = outcome -> {
      throw new IllegalStateException("a listener that fails must not affect the call");
    };
    pipeline = new InferencePipeline(ModelAccess.direct(models), scheduler, routes, shadows, new ResponseCache(0),
        List.of(broken, recorder));
  }

  @AfterEach
  void tearDown() {
    shadows.close();
    scheduler.close();
    models.close();
  }

  private static InferenceCall call(String model, float... x) {
    TensorPayload payload = (label, name, type, shape) -> {
      ByteBuffer data = ByteBuffer.allocateDirect(x.length * 4).order(ByteOrder.LITTLE_ENDIAN);
      data.asFloatBuffer().put(x);
      return Tensor.fixed(name, type, shape, data);
    };
    return new InferenceCall("req-1", model, "", List.of(new InputTensor("x", "FP32", new long[] {1, x.length},
        payload)), List.of(), Map.of());
  }

  private static RequestContext context() {
    return new RequestContext(RequestContext.Headers.NONE, InferenceRequest.NO_DEADLINE, () -> false,
        Span.getInvalid(), true);
  }

  @Test
  void aRoutedCallIsAnsweredWithItsDecisionAndSeenByListeners() throws Exception {
    float[] x = {1, -2, 3, -4, 5, -6, 7, -8};
    InferenceOutcome outcome = pipeline.infer(call("scorer", x), context()).get(10, TimeUnit.SECONDS);

    assertThat(outcome.succeeded()).isTrue();
    assertThat(outcome.route().variant().name()).isEqualTo("stable");
    assertThat(outcome.modelName()).isEqualTo("mlp");
    assertThat(outcome.modelVersion()).isEqualTo(1);
    Tensor y = outcome.outputs().get(0);
    assertThat(y.dataType()).isEqualTo(DataType.FP32);
    assertThat(y.shape()).containsExactly(1, 4);
    FloatBuffer values = y.data().asFloatBuffer();
    float[] got = new float[values.remaining()];
    values.get(got);
    assertThat(got).containsExactly(DemoRepository.mlp(1).expected(x, 1), Offset.offset(1e-5f));
    assertThat(outcome.latencyNanos()).isPositive();

    assertThat(accepted).extracting(InferenceCall::modelName).containsExactly("scorer");
    // Listeners run after the answer is handed over, on the thread that finished the call.
    await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(seen).containsExactly(outcome));
    assertThat(outcome.inputs().get("x").data().isReadOnly()).isTrue();
  }

  @Test
  void listenersSeeACallAnsweringBeforeItsCallerHasTheAnswer() throws Exception {
    answeringSeen = new CountDownLatch(1);
    RequestContext notHere = new RequestContext(RequestContext.Headers.NONE, InferenceRequest.NO_DEADLINE, () -> false,
        Span.getInvalid(), false);
    // The call is made from a thread of its own: the pipeline tells listeners on the device's thread, or, when the
    // run is over before the pipeline has attached its last step, on the caller's own, before infer returns.
    ExecutorService caller = Executors.newSingleThreadExecutor(r -> new Thread(r, "caller"));
    try {
      Future<CompletableFuture<InferenceOutcome>> handed =
          caller.submit(() -> pipeline.infer(call("scorer", 1, 2, 3, 4, 5, 6, 7, 8), notHere));
      assertThat(answeringSeen.await(10, TimeUnit.SECONDS)).isTrue();
      if (answeringThread.startsWith("caller")) {
        assertThat(handed).as("infer has not returned while listeners are told the call is answering").isNotDone();
      } else {
        assertThat(handed.get(10, TimeUnit.SECONDS)).as("the caller has no answer while listeners are told it is answering")
            .isNotDone();
      }
      answeringReleased.countDown();
      assertThat(handed.get(10, TimeUnit.SECONDS).get(10, TimeUnit.SECONDS).succeeded()).isTrue();
    } finally {
      caller.shutdownNow();
    }
  }

  @Test
  void failuresAreOutcomesThatKeepTheRoutingDecision() throws Exception {
    InferenceOutcome badShape = pipeline.infer(call("scorer", 1, 2, 3), context()).get(10, TimeUnit.SECONDS);
    assertThat(badShape.succeeded()).isFalse();
    assertThat(badShape.failure()).isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("model 'mlp' version 1", "input 'x'", "[1, 3]");
    assertThat(badShape.route().variant().name()).isEqualTo("stable");
    assertThat(badShape.request()).isNull();

    InferenceOutcome unknown = pipeline.infer(call("nope", 1), context()).get(10, TimeUnit.SECONDS);
    assertThat(unknown.failure()).isInstanceOf(ModelNotFoundException.class).hasMessageContaining("'nope'");
    assertThat(unknown.route()).isNull();
    assertThat(unknown.modelVersion()).isEqualTo(-1);

    await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(seen).containsExactlyInAnyOrder(badShape, unknown));
    assertThat(models.resolve("mlp", "1").inFlight()).isZero(); // every reference released
  }
}
