package io.junction.loadtest.bench;

import com.google.protobuf.ByteString;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.netty.NettyChannelBuilder;
import io.junction.loadtest.Load;
import io.junction.proto.inference.GRPCInferenceServiceGrpc;
import io.junction.proto.inference.ModelInferRequest;
import io.junction.proto.inference.ModelInferResponse;
import io.junction.testkit.DemoRepository;
import io.junction.testkit.ModelRepositoryWriter;
import io.junction.testkit.OnnxModelBuilder;
import io.junction.testkit.OnnxType;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * A soak of hostile-but-honest traffic: many calls to the demo {@code mlp} (or {@code image_classifier}, whose
 * 110 KB images the server copies into pooled buffers), half of them cancelled by
 * the client a random 0–2 ms after they start, sent in an open loop at half the server's measured
 * capacity with a burst of ten times that rate for 2 s in every 10 s. While it runs it samples the
 * server's resident memory, heap, direct memory (JVM buffers and Netty's own) and the bytes held by
 * messages still arriving, from the server's {@code /metrics}; at the end it says whether memory stayed
 * flat (the last quarter against the second; JVM direct memory less what the server's buffer pools keep idle for
 * reuse, which a burst may leave fuller up to their bound), and whether every call ended with a status.
 *
 * <p>With {@code large_echo}, an identity model of 128 KiB rows with dynamic batching, the server's answers come from
 * pooled batch buffers that several requests share and that cancelled requests abandon: every answer is then
 * compared with the request it answers (sixteen different ones take turns), so that a buffer handed out again while
 * an answer still reads it shows as a wrong answer, not only as memory.
 *
 * <p>Run with {@code loadtest/bench/soak.sh [calls] [server heap] [mlp|image_classifier|large_echo]}: the server (the built jar, on core 1
 * where the machine has two) gets {@code -Xmx} of that size, so a leak shows within the run.
 */
public final class SoakBenchmark {
  private static final long BURST_EVERY_NANOS = TimeUnit.SECONDS.toNanos(10);
  private static final long BURST_NANOS = TimeUnit.SECONDS.toNanos(2);
  private static final int MAX_IN_FLIGHT = 4_000;

  private final Map<Status.Code, LongAdder> outcomes = new ConcurrentHashMap<>();
  private final LongAdder ended = new LongAdder();
  /** Answers compared with what they should hold, and those that held something else. */
  private final LongAdder checked = new LongAdder();
  private final LongAdder wrong = new LongAdder();

  /** The soak's own model: y = x, 32,768 FP32 values (128 KiB) a row, batched. */
  static final String LARGE_ECHO = "large_echo";
  private static final int ECHO_VALUES = 32_768;
  private static final int ECHO_VARIANTS = 16;

  public static void main(String[] args) throws Exception {
    long calls = args.length > 0 ? Long.parseLong(args[0]) : 1_000_000;
    String heap = args.length > 1 ? args[1] : "512m";
    // mlp: 32-byte tensors; image_classifier: 110,592-byte images, which the server copies into pooled buffers.
    String model = args.length > 2 ? args[2] : DemoRepository.MLP;
    new SoakBenchmark().run(calls, heap, model);
  }

  private void run(long calls, String heap, String model) throws Exception {
    try (ScratchDirectory scratch = new ScratchDirectory("junction-soak")) {
      run(calls, heap, model, scratch.path());
    }
  }

  private void run(long calls, String heap, String model, Path repo) throws Exception {
    DemoRepository.write(repo);
    new ModelRepositoryWriter(repo)
        .model(LARGE_ECHO, 1, new OnnxModelBuilder(LARGE_ECHO)
            .input("x", OnnxType.FLOAT, OnnxModelBuilder.DYNAMIC, ECHO_VALUES)
            .output("y", OnnxType.FLOAT, OnnxModelBuilder.DYNAMIC, ECHO_VALUES)
            .node("Identity", List.of("x"), List.of("y")).build())
        .config(LARGE_ECHO, "max_batch_size: 8\ndynamic_batching { max_queue_delay_microseconds: 500 }\n");
    int grpcPort = Servers.freePort();
    int httpPort = Servers.freePort();
    List<String> command = new ArrayList<>();
    String cores = System.getProperty("server.cores");
    if (cores != null) {
      command.addAll(List.of("taskset", "-c", cores));
    }
    command.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xms" + heap,
        "-Xmx" + heap, "-jar", System.getProperty("junction.jar", "server/target/junction-server.jar"),
        "--model-repository", repo.toString(), "--grpc-port", Integer.toString(grpcPort), "--http-port",
        Integer.toString(httpPort), "--cpu-slots", "1"));
    Process server = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(repo.resolve("server.log").toFile()).start();
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", grpcPort).usePlaintext().build();
    ScheduledExecutorService cancels = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "soak-cancels");
      t.setDaemon(true);
      return t;
    });
    try {
      Servers.awaitReady(channel, "the server");
      List<ModelInferRequest> requests = requests(model);
      ModelInferRequest request = requests.get(0);
      System.out.printf("soak: %,d calls to %s, half cancelled after 0-2 ms, server -Xmx%s%s; log %s%n", calls, model, heap,
          cores == null ? " (not pinned)" : ", server on core " + cores, repo.resolve("server.log"));
      // 10 s of warm-up first: on one core the JIT compilers compete with the calls for a while.
      double capacity = Load.closedLoop(channel, request, 16, 10_000, 5_000).callsPerSecond();
      double base = capacity / 2;
      System.out.printf("capacity (closed loop, 16 callers): %,.0f calls/s; base rate %,.0f/s, bursts of %,.0f/s for 2 s "
          + "in every 10 s%n%n", capacity, base, base * 10);
      System.out.println("   calls   s  sent/s  RSS MiB  heap MiB  JVM direct MiB  Netty direct MiB  pools idle MiB"
          + "  incomplete B");
      HttpClient http = HttpClient.newHttpClient();
      List<double[]> samples = new ArrayList<>();
      Semaphore inFlight = new Semaphore(MAX_IN_FLIGHT);
      long start = System.nanoTime();
      long nextSample = start;
      long sentInWindow = 0;
      long windowStart = start;
      double sendAt = start;
      for (long i = 0; i < calls; i++) {
        long now = System.nanoTime();
        boolean burst = (now - start) % BURST_EVERY_NANOS >= BURST_EVERY_NANOS - BURST_NANOS;
        sendAt += 1e9 / (burst ? base * 10 : base);
        if (sendAt > now) {
          LockSupport.parkNanos((long) sendAt - now);
        } else if (now - sendAt > 1e8) {
          sendAt = now; // the client itself fell behind: no catching up in a rush
        }
        inFlight.acquire();
        call(channel, requests.get((int) (i % requests.size())), model.equals(LARGE_ECHO), i % 2 == 0, cancels,
            inFlight);
        sentInWindow++;
        if (System.nanoTime() >= nextSample) {
          double seconds = (System.nanoTime() - start) / 1e9;
          double rate = sentInWindow / ((System.nanoTime() - windowStart) / 1e9);
          double[] s = sample(http, httpPort, i, seconds);
          samples.add(s);
          print(s, rate);
          sentInWindow = 0;
          windowStart = System.nanoTime();
          nextSample += TimeUnit.SECONDS.toNanos(5);
        }
      }
      inFlight.acquire(MAX_IN_FLIGHT); // every call ended
      double seconds = (System.nanoTime() - start) / 1e9;
      Thread.sleep(10_000);
      double[] settled = sample(http, httpPort, calls, seconds + 10);
      System.out.println("after 10 s idle:");
      print(settled, 0);
      boolean served = GRPCInferenceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS)
          .modelInfer(request).getOutputsCount() == 1;
      String metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/metrics")).build(),
          HttpResponse.BodyHandlers.ofString()).body();
      double executions = sumForModel(metrics, "junction_batch_size_count", model);
      System.out.printf("%s: %,.0f executions, mean batch %.2f rows; pooled buffers allocated: %,.0f for requests, %,.0f "
          + "for batches%n", model, executions,
          executions == 0 ? 0 : sumForModel(metrics, "junction_batch_size_sum", model) / executions,
          value(metrics, "junction_request_buffers_allocated_total"), value(metrics, "junction_batch_buffers_allocated_total"));
      report(calls, seconds, samples, settled, served);
    } finally {
      channel.shutdownNow();
      cancels.shutdownNow();
      server.destroy();
      server.waitFor(40, TimeUnit.SECONDS);
    }
  }

  /** One call; with {@code check}, its answer must hold the request's own raw contents (an identity model). */
  private void call(ManagedChannel channel, ModelInferRequest request, boolean check, boolean cancel,
      ScheduledExecutorService cancels, Semaphore inFlight) {
    ClientCall<ModelInferRequest, ModelInferResponse> call = channel.newCall(
        GRPCInferenceServiceGrpc.getModelInferMethod(), CallOptions.DEFAULT.withDeadlineAfter(5, TimeUnit.SECONDS));
    call.start(new ClientCall.Listener<>() {
      @Override
      public void onMessage(ModelInferResponse response) {
        if (check) {
          checked.increment();
          if (response.getRawOutputContentsCount() != 1
              || !response.getRawOutputContents(0).equals(request.getRawInputContents(0))) {
            wrong.increment();
          }
        }
      }

      @Override
      public void onClose(Status status, Metadata trailers) {
        outcomes.computeIfAbsent(status.getCode(), c -> new LongAdder()).increment();
        ended.increment();
        inFlight.release();
      }
    }, new Metadata());
    call.request(1);
    call.sendMessage(request);
    call.halfClose();
    if (cancel) {
      cancels.schedule(() -> call.cancel("soak: cancelled by the client", null),
          ThreadLocalRandom.current().nextLong(2_000_000), TimeUnit.NANOSECONDS);
    }
  }

  /** calls, seconds, RSS, heap, JVM direct, Netty direct, incomplete bytes, bytes idle in the server's buffer pools. */
  private static double[] sample(HttpClient http, int port, long calls, double seconds) throws Exception {
    String text = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString()).body();
    return new double[] {calls, seconds, value(text, "process_resident_memory_bytes"),
        value(text, "jvm_memory_used_bytes{area=\"heap\"}"), value(text, "jvm_buffer_pool_used_bytes{pool=\"direct\"}"),
        value(text, "junction_netty_direct_memory_bytes"), value(text, "junction_grpc_incomplete_message_bytes"),
        // 0 where a build before these gauges is soaked
        Math.max(0, value(text, "junction_request_buffers_idle_bytes"))
            + Math.max(0, value(text, "junction_batch_buffers_idle_bytes"))};
  }

  private static void print(double[] s, double rate) {
    double mib = 1 << 20;
    System.out.printf("%,8.0f %3.0f %7.0f %8.1f %9.1f %15.1f %17.1f %15.1f %13.0f%n", s[0], s[1], rate, s[2] / mib,
        s[3] / mib, s[4] / mib, s[5] / mib, s[7] / mib, s[6]);
  }

  private void report(long calls, double seconds, List<double[]> samples, double[] settled, boolean served) {
    System.out.printf("%n%,d calls in %.0f s (%,.0f/s); every call ended: %s (%,d); outcomes: %s%n", calls, seconds,
        calls / seconds, ended.sum() == calls, ended.sum(), outcomes);
    int n = samples.size();
    if (n < 8) {
      System.out.println("too few samples to judge flatness: run more calls");
      return;
    }
    boolean flat = true;
    // JVM direct is judged without the buffers the server's pools keep idle for reuse: a burst that needs more of them
    // at once leaves the pools fuller (up to their bound) for the rest of the run, which is not a leak.
    String[] names = {"RSS", "heap", "JVM direct, less pools' idle", "Netty direct"};
    for (int m = 0; m < names.length; m++) {
      double second = judged(samples.subList(n / 4, n / 2), m);
      double last = judged(samples.subList(3 * n / 4, n), m);
      double growth = last - second;
      // Heap moves with garbage collection by tens of MiB; a leak grows steadily past that.
      boolean ok = growth <= Math.max(0.10 * second, 32.0 * (1 << 20));
      flat &= ok;
      System.out.printf("%-28s second quarter %7.1f MiB, last quarter %7.1f MiB: %+6.1f MiB %s%n", names[m],
          second / (1 << 20), last / (1 << 20), growth / (1 << 20), ok ? "flat" : "GROWING");
    }
    System.out.printf("incomplete-message bytes after the run: %.0f; a normal call after the soak answered: %s%n",
        settled[6], served);
    if (checked.sum() > 0) {
      System.out.printf("answers compared with their requests: %,d, wrong: %,d%n", checked.sum(), wrong.sum());
    }
    System.out.println(wrong.sum() > 0 ? "VERDICT: WRONG ANSWERS"
        : flat && served && settled[6] == 0 && ended.sum() == calls ? "VERDICT: flat" : "VERDICT: NOT FLAT");
  }

  /** The mean of memory measure {@code m} (RSS, heap, JVM direct, Netty direct) as the verdict judges it. */
  private static double judged(List<double[]> rows, int m) {
    double mean = mean(rows, m + 2);
    return m == 2 ? mean - mean(rows, 7) : mean;
  }

  private static double mean(List<double[]> rows, int column) {
    return rows.stream().mapToDouble(r -> r[column]).average().orElse(0);
  }

  /** A series summed over every version of {@code model} (the demo mlp serves version 2, the soak's own model 1). */
  private static double sumForModel(String metrics, String name, String model) {
    String modelLabel = "model=\"" + model + "\"";
    return metrics.lines().filter(l -> l.startsWith(name + "{") && l.contains(modelLabel))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
  }

  private static double value(String metrics, String series) {
    return metrics.lines().filter(l -> l.startsWith(series + " "))
        .mapToDouble(l -> Double.parseDouble(l.substring(series.length() + 1))).findFirst().orElse(-1);
  }

  /** The requests the soak sends in turn: one, or for {@link #LARGE_ECHO} sixteen with different contents. */
  private static List<ModelInferRequest> requests(String model) {
    long[] shape = switch (model) {
      case DemoRepository.MLP -> new long[] {1, DemoRepository.MLP_INPUTS};
      case DemoRepository.IMAGE_CLASSIFIER -> new long[] {1, 3, 48, 192};
      case LARGE_ECHO -> new long[] {1, ECHO_VALUES};
      default -> throw new IllegalArgumentException("soaks mlp, image_classifier or " + LARGE_ECHO + ", not " + model);
    };
    int variants = model.equals(LARGE_ECHO) ? ECHO_VARIANTS : 1;
    List<ModelInferRequest> requests = new ArrayList<>(variants);
    for (int v = 0; v < variants; v++) {
      requests.add(request(model, shape, v));
    }
    return requests;
  }

  private static ModelInferRequest request(String model, long[] shape, int variant) {
    int count = (int) Arrays.stream(shape).reduce(1, (a, b) -> a * b);
    ByteBuffer data = ByteBuffer.allocate(count * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < count; i++) {
      data.putFloat((float) Math.cos(i + 1000.0 * variant));
    }
    ModelInferRequest.InferInputTensor.Builder input = ModelInferRequest.InferInputTensor.newBuilder()
        .setName(model.equals(DemoRepository.IMAGE_CLASSIFIER) ? "image" : "x").setDatatype("FP32");
    for (long d : shape) {
      input.addShape(d);
    }
    return ModelInferRequest.newBuilder().setModelName(model).addInputs(input)
        .addRawInputContents(ByteString.copyFrom(data.array())).build();
  }
}
