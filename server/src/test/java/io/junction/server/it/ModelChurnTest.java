package io.junction.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.junction.proto.inference.ModelInferRequest;
import io.junction.proto.inference.ModelInferResponse;
import io.junction.proto.inference.ModelRepositoryParameter;
import io.junction.proto.inference.ModelStreamInferResponse;
import io.junction.proto.inference.RepositoryModelLoadRequest;
import io.junction.proto.inference.RepositoryModelUnloadRequest;
import io.junction.server.InferRequests;
import io.junction.server.TestServer;
import io.junction.server.config.ModelControl;
import io.junction.server.config.ServerConfig;
import io.junction.server.inference.ModelCatalog;
import io.junction.testkit.DemoRepository;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model unloaded and loaded again, with other configs each time (batching on and off, other batch sizes), while
 * twelve callers and a stream keep calling it: every call is answered, promptly, either right (SUM and DIFF of its
 * own inputs, whichever batch it ran in) or UNAVAILABLE/NOT_FOUND while the model is away; never INTERNAL, UNKNOWN or
 * a deadline; and the model serves again once it is back.
 */
class ModelChurnTest {
  private static final Set<Status.Code> WHILE_AWAY = Set.of(Status.Code.UNAVAILABLE, Status.Code.NOT_FOUND);
  private static final List<String> CONFIGS = List.of("", "{\"max_batch_size\": 16, \"dynamic_batching\": "
      + "{\"max_queue_delay_microseconds\": 1000}}", "{\"max_batch_size\": 4, \"dynamic_batching\": {}}",
      "{\"max_batch_size\": 16, \"instance_group\": [{\"count\": 2, \"kind\": \"KIND_CPU\"}]}");

  @TempDir Path repo;

  @Test
  void callsDuringUnloadsAndReloadsAreAnsweredRightOrRefusedCleanly() throws Exception {
    DemoRepository.write(repo);
    ServerConfig config = ServerConfig.loopback(repo).withControl(ModelControl.explicit(Set.of("*")))
        .withOpenRepositoryApi();
    try (TestServer server = TestServer.start(config)) {
      AtomicBoolean stop = new AtomicBoolean();
      Map<String, AtomicInteger> outcomes = new ConcurrentHashMap<>();
      ConcurrentLinkedQueue<String> wrong = new ConcurrentLinkedQueue<>();
      ExecutorService callers = Executors.newFixedThreadPool(12, r -> new Thread(r, "churn-caller"));
      List<Future<?>> running = new ArrayList<>();
      for (int c = 0; c < 12; c++) {
        long seed = c;
        running.add(callers.submit(() -> {
          Random random = new Random(seed);
          while (!stop.get()) {
            ModelInferRequest request = request(random);
            try {
              ModelInferResponse r = server.blocking().withDeadlineAfter(10, TimeUnit.SECONDS).modelInfer(request);
              check(request, r, wrong);
              outcomes.computeIfAbsent("OK", k -> new AtomicInteger()).incrementAndGet();
            } catch (StatusRuntimeException e) {
              count(e.getStatus().getCode(), e.getStatus().getDescription(), outcomes, wrong);
            }
          }
        }));
      }
      StreamCaller stream = new StreamCaller(server, outcomes, wrong);

      Random random = new Random(42);
      for (int round = 0; round < 24; round++) {
        Thread.sleep(random.nextInt(40));
        if (random.nextBoolean()) {
          server.blocking().repositoryModelUnload(RepositoryModelUnloadRequest.newBuilder().setModelName("add_sub").build());
          Thread.sleep(random.nextInt(20));
        }
        String json = CONFIGS.get(random.nextInt(CONFIGS.size()));
        RepositoryModelLoadRequest.Builder load = RepositoryModelLoadRequest.newBuilder().setModelName("add_sub");
        if (!json.isEmpty()) {
          load.putParameters(ModelCatalog.CONFIG_PARAMETER, ModelRepositoryParameter.newBuilder().setStringParam(json)
              .build());
        }
        server.blocking().repositoryModelLoad(load.build());
      }
      Thread.sleep(200);
      stop.set(true);
      for (Future<?> f : running) {
        f.get(30, TimeUnit.SECONDS);
      }
      callers.shutdown();
      stream.finish();

      assertThat(wrong).as("answers that were wrong or a server's fault").isEmpty();
      assertThat(outcomes.get("OK")).as("calls answered right: %s", outcomes).isNotNull();
      assertThat(outcomes.get("OK").get()).as("%s", outcomes).isGreaterThan(100);
      assertThat(outcomes.keySet()).as("calls made while the model was away: %s", outcomes)
          .containsAnyOf(Status.Code.UNAVAILABLE.name(), Status.Code.NOT_FOUND.name());
      // Back for good: every caller's next call is served.
      Random last = new Random(7);
      for (int i = 0; i < 20; i++) {
        ModelInferRequest request = request(last);
        check(request, server.blocking().modelInfer(request), wrong);
      }
      assertThat(wrong).isEmpty();
    }
  }

  /** add_sub with 1-4 rows of A and B. */
  private static ModelInferRequest request(Random random) {
    int rows = 1 + random.nextInt(4);
    float[] a = new float[rows * 3];
    float[] b = new float[rows * 3];
    for (int i = 0; i < a.length; i++) {
      a[i] = random.nextInt(2001) - 1000;
      b[i] = random.nextInt(2001) - 1000;
    }
    return ModelInferRequest.newBuilder().setModelName("add_sub").setId(Long.toString(random.nextLong()))
        .addInputs(InferRequests.input("A", "FP32", rows, 3)).addInputs(InferRequests.input("B", "FP32", rows, 3))
        .addRawInputContents(InferRequests.fp32(a)).addRawInputContents(InferRequests.fp32(b)).build();
  }

  private static void check(ModelInferRequest request, ModelInferResponse response, ConcurrentLinkedQueue<String> wrong) {
    float[] a = floats(request.getRawInputContents(0));
    float[] b = floats(request.getRawInputContents(1));
    float[] sum = new float[a.length];
    float[] diff = new float[a.length];
    for (int i = 0; i < a.length; i++) {
      sum[i] = a[i] + b[i];
      diff[i] = a[i] - b[i];
    }
    List<String> names = response.getOutputsList().stream().map(ModelInferResponse.InferOutputTensor::getName).toList();
    if (!response.getId().equals(request.getId()) || names.size() != 2
        || !Arrays.equals(InferRequests.floats(response, names.indexOf("SUM")), sum)
        || !Arrays.equals(InferRequests.floats(response, names.indexOf("DIFF")), diff)) {
      wrong.add("request " + request.getId() + " answered " + response);
    }
  }

  private static float[] floats(ByteString raw) {
    float[] out = new float[raw.size() / 4];
    raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
    return out;
  }

  private static void count(Status.Code code, String message, Map<String, AtomicInteger> outcomes,
      ConcurrentLinkedQueue<String> wrong) {
    outcomes.computeIfAbsent(code.name(), k -> new AtomicInteger()).incrementAndGet();
    if (!WHILE_AWAY.contains(code) || message == null || !message.contains("add_sub")) {
      wrong.add(code + ": " + message);
    }
  }

  /** One stream sending a request whenever the one before is answered, until told to finish. */
  private static final class StreamCaller implements StreamObserver<ModelStreamInferResponse> {
    private final Map<String, AtomicInteger> outcomes;
    private final ConcurrentLinkedQueue<String> wrong;
    private final Random random = new Random(99);
    private final CountDownLatch done = new CountDownLatch(1);
    private final AtomicBoolean finishing = new AtomicBoolean();
    private final StreamObserver<ModelInferRequest> requests;
    private volatile ModelInferRequest last;

    StreamCaller(TestServer server, Map<String, AtomicInteger> outcomes, ConcurrentLinkedQueue<String> wrong) {
      this.outcomes = outcomes;
      this.wrong = wrong;
      this.requests = server.async().withDeadlineAfter(60, TimeUnit.SECONDS).modelStreamInfer(this);
      send();
    }

    private synchronized void send() {
      if (finishing.get()) {
        requests.onCompleted();
        return;
      }
      last = request(random);
      requests.onNext(last);
    }

    @Override
    public void onNext(ModelStreamInferResponse value) {
      if (value.getErrorMessage().isEmpty()) {
        check(last, value.getInferResponse(), wrong);
        outcomes.computeIfAbsent("OK", k -> new AtomicInteger()).incrementAndGet();
      } else {
        String code = value.getErrorMessage().substring(0, Math.max(0, value.getErrorMessage().indexOf(':')));
        count(Status.Code.valueOf(code.isEmpty() ? "UNKNOWN" : code), value.getErrorMessage(), outcomes, wrong);
      }
      send();
    }

    @Override
    public void onError(Throwable t) {
      wrong.add("the stream failed: " + Status.fromThrowable(t));
      done.countDown();
    }

    @Override
    public void onCompleted() {
      done.countDown();
    }

    void finish() throws InterruptedException {
      finishing.set(true);
      assertThat(done.await(30, TimeUnit.SECONDS)).as("the stream ended").isTrue();
    }
  }
}
