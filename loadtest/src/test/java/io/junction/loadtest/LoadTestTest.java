package io.junction.loadtest;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.junction.proto.inference.GRPCInferenceServiceGrpc;
import io.junction.proto.inference.ModelInferRequest;
import io.junction.proto.inference.ModelStatisticsRequest;
import io.junction.proto.inference.ModelStreamInferResponse;
import io.junction.server.JunctionServer;
import io.junction.server.config.ServerConfig;
import io.junction.server.telemetry.Telemetry;
import io.junction.testkit.DemoRepository;
import io.junction.testkit.OtlpReceiver;
import io.opentelemetry.proto.trace.v1.Span;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The load generator against a real Junction on loopback. */
class LoadTestTest {
  @TempDir static Path repo;
  static JunctionServer server;

  @BeforeAll
  static void start() throws Exception {
    DemoRepository.write(repo);
    server = new JunctionServer(ServerConfig.loopback(repo)).start();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static JsonObject run(String... args) {
    StringWriter out = new StringWriter();
    CommandLine cli = LoadTest.commandLine();
    cli.setOut(new PrintWriter(out));
    String[] all = new String[args.length + 5];
    all[0] = "--target";
    all[1] = "127.0.0.1:" + server.grpcPort();
    all[2] = "--insecure";
    all[3] = "--format";
    all[4] = "json";
    System.arraycopy(args, 0, all, 5, args.length);
    assertThat(cli.execute(all)).as(out.toString()).isZero();
    return JsonParser.parseString(out.toString()).getAsJsonObject();
  }

  private static long successes(String model) throws InterruptedException {
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext().build();
    try {
      return GRPCInferenceServiceGrpc.newBlockingStub(channel)
          .modelStatistics(ModelStatisticsRequest.newBuilder().setName(model).build()).getModelStatsList().stream()
          .mapToLong(s -> s.getInferenceStats().getSuccess().getCount()).sum();
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void countsMatchTheServersStatisticsAndTheJsonHasGhzFields() throws Exception {
    long before = successes("add_sub");
    JsonObject report = run("--model", "add_sub", "-c", "4", "-n", "300", "--batch", "2", "--connections", "3");
    for (String field : new String[] {"date", "count", "total", "average", "fastest", "slowest", "rps",
        "latencyDistribution", "histogram", "statusCodeDistribution", "errorDistribution"}) {
      assertThat(report.has(field)).as(field).isTrue();
    }
    assertThat(report.get("count").getAsLong()).isEqualTo(300);
    assertThat(report.getAsJsonObject("statusCodeDistribution").get("OK").getAsLong()).isEqualTo(300);
    assertThat(successes("add_sub") - before).as("the server saw exactly the requests sent").isEqualTo(300);
    assertThat(report.get("fastest").getAsLong()).isPositive().isLessThanOrEqualTo(report.get("slowest").getAsLong());
    assertThat(report.getAsJsonArray("latencyDistribution")).hasSize(7);
    long inHistogram = 0;
    for (var bucket : report.getAsJsonArray("histogram")) {
      inHistogram += bucket.getAsJsonObject().get("count").getAsLong();
    }
    assertThat(inHistogram).isEqualTo(300);
  }

  @Test
  void warmUpCallsReachTheServerButNotTheReport() throws Exception {
    long before = successes("add_sub");
    JsonObject report = run("--model", "add_sub", "-c", "3", "-n", "50", "--warmup", "500ms");
    long served = successes("add_sub") - before;
    assertThat(report.get("count").getAsLong()).isEqualTo(50);
    assertThat(served).as("warm-up calls, then the 50 measured").isGreaterThan(50);
  }

  @Test
  void aGhzCommandLineRunsUnchanged(@TempDir Path dir) throws Exception {
    // ghz's own spelling: method, data with the model in it, options, the target last; report to a file.
    Path report = dir.resolve("report.json");
    StringWriter out = new StringWriter();
    CommandLine cli = LoadTest.commandLine();
    cli.setOut(new PrintWriter(out));
    int exit = cli.execute("--insecure", "--call", "inference.GRPCInferenceService/ModelInfer",
        "-d", "{\"model_name\":\"add_sub\",\"inputs\":[{\"name\":\"A\",\"datatype\":\"FP32\",\"shape\":[1,3],"
            + "\"contents\":{\"fp32_contents\":[1,2,3]}},{\"name\":\"B\",\"datatype\":\"FP32\",\"shape\":[1,3],"
            + "\"contents\":{\"fp32_contents\":[1,1,1]}}]}",
        "-c", "4", "-n", "40", "-t", "0", "-O", "json", "-o", report.toString(), "127.0.0.1:" + server.grpcPort());
    assertThat(exit).as(out.toString()).isZero();
    assertThat(out.toString()).as("the report went to the file").isEmpty();
    JsonObject json = JsonParser.parseString(Files.readString(report)).getAsJsonObject();
    assertThat(json.get("count").getAsLong()).isEqualTo(40);
    assertThat(json.getAsJsonObject("statusCodeDistribution").get("OK").getAsLong()).isEqualTo(40);
    assertThat(json.getAsJsonObject("options").get("model").getAsString()).isEqualTo("add_sub");

    StringWriter err = new StringWriter();
    CommandLine wrong = LoadTest.commandLine();
    wrong.setErr(new PrintWriter(err));
    assertThat(wrong.execute("--insecure", "--call", "inference.GRPCInferenceService/ServerLive",
        "127.0.0.1:" + server.grpcPort())).isNotZero();
    assertThat(err.toString()).contains("only inference.GRPCInferenceService/ModelInfer and "
        + "inference.GRPCInferenceService/ModelStreamInfer are load-tested");
  }

  @Test
  void requestsGoOverStreamsWhenTheCallIsModelStreamInfer() throws Exception {
    long before = successes("add_sub");
    JsonObject report = run("--call", "inference.GRPCInferenceService/ModelStreamInfer", "--model", "add_sub",
        "-c", "4", "-n", "300", "--connections", "2");
    assertThat(report.get("count").getAsLong()).isEqualTo(300);
    assertThat(report.getAsJsonObject("statusCodeDistribution").get("OK").getAsLong()).isEqualTo(300);
    assertThat(successes("add_sub") - before).as("the server saw exactly the requests sent").isEqualTo(300);
    assertThat(report.getAsJsonObject("options").get("call").getAsString())
        .isEqualTo("inference.GRPCInferenceService.ModelStreamInfer");
    // Each request over a stream is counted on its own, as the server's statistics count it, not the stream.
    assertThat(report.get("fastest").getAsLong()).isPositive().isLessThanOrEqualTo(report.get("slowest").getAsLong());

    JsonObject open = run("--call", "inference.GRPCInferenceService.ModelStreamInfer", "--model", "add_sub",
        "--rps", "400", "-n", "200");
    assertThat(open.getAsJsonObject("statusCodeDistribution").get("OK").getAsLong()).isEqualTo(200);
  }

  @Test
  void aStreamedRequestThatFailsIsCountedByItsStatusAndTheStreamGoesOn() {
    // Every request fails (a batch of 100 rows is over the model's limit); the server answers each with an
    // error_message on the stream, which stays open for the next request.
    JsonObject report = run("--call", "inference.GRPCInferenceService/ModelStreamInfer", "--model", "mlp",
        "-c", "2", "-n", "20", "--batch", "100");
    assertThat(report.getAsJsonObject("statusCodeDistribution").get("InvalidArgument").getAsLong()).isEqualTo(20);
    assertThat(report.getAsJsonObject("errorDistribution").keySet()).singleElement()
        .asString().startsWith("rpc error: code = InvalidArgument desc = ").contains("batch size 100");
  }

  @Test
  @Timeout(60) // without its deadline, the run would wait for answers forever
  void aStreamedRequestUnansweredPastTheTimeoutFailsAndItsStreamIsOpenedAnew() throws Exception {
    // A server that never answers streamed requests, but for the client's own warm-up calls, which it refuses.
    AtomicInteger streams = new AtomicInteger();
    Server silent = NettyServerBuilder.forAddress(
            new InetSocketAddress("127.0.0.1", 0))
        .addService(new GRPCInferenceServiceGrpc.GRPCInferenceServiceImplBase() {
          @Override
          public StreamObserver<ModelInferRequest> modelStreamInfer(
              StreamObserver<ModelStreamInferResponse> answers) {
            return new StreamObserver<>() {
              private boolean counted;

              @Override
              public void onNext(ModelInferRequest request) {
                if (!request.getModelName().equals("mlp")) {
                  answers.onNext(ModelStreamInferResponse.newBuilder()
                      .setErrorMessage("NOT_FOUND: no such model").build());
                } else if (!counted) {
                  counted = true;
                  streams.incrementAndGet();
                }
              }

              @Override
              public void onError(Throwable t) {}

              @Override
              public void onCompleted() {}
            };
          }
        }).build().start();
    try {
      StringWriter out = new StringWriter();
      CommandLine cli = LoadTest.commandLine();
      cli.setOut(new PrintWriter(out));
      int exit = cli.execute("--target", "127.0.0.1:" + silent.getPort(), "--insecure", "--format", "json",
          "--call", "inference.GRPCInferenceService/ModelStreamInfer", "-t", "200ms", "-c", "2", "-n", "4",
          "-d", "{\"model_name\":\"mlp\",\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1,8],"
              + "\"contents\":{\"fp32_contents\":[1,2,3,4,5,6,7,8]}}]}");
      assertThat(exit).as(out.toString()).isZero();
      JsonObject report = JsonParser.parseString(out.toString()).getAsJsonObject();
      assertThat(report.getAsJsonObject("statusCodeDistribution").get("DeadlineExceeded").getAsLong()).isEqualTo(4);
      assertThat(report.getAsJsonObject("errorDistribution").keySet()).containsExactly(
          "rpc error: code = DeadlineExceeded desc = context deadline exceeded");
      // One stream per request: each expired request's stream was cancelled, and its caller's next request
      // opened a new one.
      assertThat(streams.get()).isEqualTo(4);
    } finally {
      silent.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void aStreamsErrorMessageNamesItsStatus() {
    assertThat(StreamCalls.status("NOT_FOUND: model 'x' is not loaded").getCode()).isEqualTo(Status.Code.NOT_FOUND);
    assertThat(StreamCalls.status("NOT_FOUND: model 'x' is not loaded").getDescription())
        .isEqualTo("model 'x' is not loaded");
    assertThat(StreamCalls.status("RESOURCE_EXHAUSTED").getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    // Triton's messages carry no code: the whole message, as UNKNOWN; "OK" is never a failure's status.
    assertThat(StreamCalls.status("in ensemble 'e': unexpected shape").getCode()).isEqualTo(Status.Code.UNKNOWN);
    assertThat(StreamCalls.status("in ensemble 'e': unexpected shape").getDescription())
        .isEqualTo("in ensemble 'e': unexpected shape");
    assertThat(StreamCalls.status("OK: fine").getCode()).isEqualTo(Status.Code.UNKNOWN);
  }

  @Test
  void skipFirstLeavesTheFirstAnswersOutAndErrorsLatenciesCountOnlyWhenAsked() throws Exception {
    long before = successes("add_sub");
    JsonObject skipped = run("--model", "add_sub", "-c", "2", "-n", "50", "--skipFirst", "10");
    assertThat(skipped.get("count").getAsLong()).isEqualTo(40);
    assertThat(successes("add_sub") - before).as("all 50 were sent").isEqualTo(50);

    // Every call fails (a batch of 100 rows is over the model's limit).
    JsonObject failures = run("--model", "mlp", "-c", "2", "-n", "20", "--batch", "100");
    assertThat(failures.get("count").getAsLong()).isEqualTo(20);
    assertThat(failures.getAsJsonArray("latencyDistribution")).as("ghz leaves failed calls out of latency").isEmpty();
    JsonObject counted = run("--model", "mlp", "-c", "2", "-n", "20", "--batch", "100", "--count-errors");
    assertThat(counted.getAsJsonArray("latencyDistribution")).hasSize(7);
    assertThat(counted.get("slowest").getAsLong()).isPositive();
  }

  @Test
  void aJsonArrayOfRequestsIsSentInTurn() throws Exception {
    long addSub = successes("add_sub");
    long mlp = successes("mlp");
    String array = "[{\"model_name\":\"add_sub\",\"inputs\":[{\"name\":\"A\",\"datatype\":\"FP32\",\"shape\":[1,3],"
        + "\"contents\":{\"fp32_contents\":[1,2,3]}},{\"name\":\"B\",\"datatype\":\"FP32\",\"shape\":[1,3],"
        + "\"contents\":{\"fp32_contents\":[1,1,1]}}]},"
        + "{\"model_name\":\"mlp\",\"model_version\":\"1\",\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\","
        + "\"shape\":[1,8],\"contents\":{\"fp32_contents\":[1,2,3,4,5,6,7,8]}}]}]";
    JsonObject report = run("-d", array, "-c", "2", "-n", "40");
    assertThat(report.getAsJsonObject("statusCodeDistribution").get("OK").getAsLong()).isEqualTo(40);
    assertThat(successes("add_sub") - addSub).isEqualTo(20);
    assertThat(successes("mlp") - mlp).isEqualTo(20);
  }

  @Test
  void durationsAreSpelledAsInGhz() {
    assertThat(LoadTest.parseDuration("1m30s")).isEqualTo(Duration.ofSeconds(90));
    assertThat(LoadTest.parseDuration("1.5s")).isEqualTo(Duration.ofMillis(1500));
    assertThat(LoadTest.parseDuration("250ms")).isEqualTo(Duration.ofMillis(250));
    assertThat(LoadTest.parseDuration("2h")).isEqualTo(Duration.ofHours(2));
    assertThat(LoadTest.parseDuration("0")).isZero();
    Assertions.assertThatThrownBy(() -> LoadTest.parseDuration("10 s"))
        .hasMessageContaining("durations look like");
    Assertions.assertThatThrownBy(() -> LoadTest.parseDuration("1m30"))
        .hasMessageContaining("durations look like");
    // On the command line a bad one is a usage error naming the option, before anything runs.
    StringWriter err = new StringWriter();
    CommandLine cli = LoadTest.commandLine();
    cli.setErr(new PrintWriter(err));
    assertThat(cli.execute("--insecure", "--model", "mlp", "-z", "abc", "127.0.0.1:1")).isEqualTo(2);
    assertThat(err.toString()).contains("Invalid value for option '--duration'", "durations look like", "got 'abc'")
        .doesNotContain("IllegalArgumentException");
  }

  @Test
  void rpsModeKeepsItsTimeline() {
    // 100 requests per second for 2 s: 200 requests, started on schedule.
    JsonObject report = run("--model", "mlp", "--rps", "100", "-z", "2s");
    assertThat(report.get("count").getAsLong()).isEqualTo(200);
    assertThat(report.get("total").getAsLong()).isBetween(1_900_000_000L, 4_000_000_000L);
    // Pacing: 99 % of the requests started less than 50 ms after their slot, and none fell behind its timeline by
    // half a second (parking is accurate to ~1 ms; the bounds leave room for a descheduled thread or a pause of the
    // JVM on a loaded 2-core CI machine, which once delayed the worst start by 50.4 ms; a generator that drifts from
    // its schedule falls behind by seconds).
    assertThat(report.get("pacingErrorP99Ns").getAsLong()).isBetween(0L, 50_000_000L);
    assertThat(report.get("pacingErrorNs").getAsLong()).isBetween(report.get("pacingErrorP99Ns").getAsLong(),
        500_000_000L);
  }

  @Test
  void aRoutesVariantsAreCounted(@TempDir Path dir) throws Exception {
    Path routes = Files.writeString(dir.resolve("routes.yaml"), """
        routes:
          - name: ab
            variants:
              - { name: a, model: mlp, version: 1, weight: 50 }
              - { name: b, model: mlp, version: 2, weight: 50 }
        """);
    try (JunctionServer routed = new JunctionServer(ServerConfig.loopback(repo).withRoutesFile(routes)).start()) {
      StringWriter out = new StringWriter();
      CommandLine cli = LoadTest.commandLine();
      cli.setOut(new PrintWriter(out));
      assertThat(cli.execute("--target", "127.0.0.1:" + routed.grpcPort(), "--insecure", "-O", "json",
          "--model", "ab", "-c", "4", "-n", "200")).isZero();
      JsonObject variants = JsonParser.parseString(out.toString()).getAsJsonObject().getAsJsonObject("variants");
      assertThat(variants.get("a").getAsLong() + variants.get("b").getAsLong()).isEqualTo(200);
      assertThat(variants.get("a").getAsLong()).as("50/50 over 200: sd 7").isBetween(60L, 140L);
    }
  }

  @Test
  void aStepScheduleShowsItsSteps() {
    // 20 rps, +40 every second, capped at 100: about 20, 60 and 100 calls in seconds 0, 1 and 2.
    JsonObject report = run("--model", "mlp", "--load-schedule", "step", "--load-start", "20", "--load-step", "40",
        "--load-step-duration", "1s", "--load-end", "100", "-z", "3s");
    var timeline = report.getAsJsonArray("timeline");
    assertThat(timeline).hasSize(3);
    long[] started = new long[3];
    for (int i = 0; i < 3; i++) {
      started[i] = timeline.get(i).getAsJsonObject().get("started").getAsLong();
    }
    assertThat(started[0]).isBetween(18L, 22L);
    assertThat(started[1]).isBetween(55L, 65L);
    assertThat(started[2]).isBetween(95L, 105L);
    assertThat(report.get("count").getAsLong()).isEqualTo(started[0] + started[1] + started[2]);
  }

  @Test
  void requestsCanComeFromGhzStyleJson(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("data.json"), """
        {"model_name": "add_sub",
         "inputs": [{"name": "A", "datatype": "FP32", "shape": [1, 3], "contents": {"fp32_contents": [1, 2, 3]}},
                    {"name": "B", "datatype": "FP32", "shape": [1, 3], "contents": {"fp32_contents": [4, 5, 6]}}]}
        """);
    JsonObject report = run("--model", "add_sub", "-c", "2", "-n", "30", "--data", "@" + file);
    assertThat(report.getAsJsonObject("statusCodeDistribution").get("OK").getAsLong()).isEqualTo(30);
  }

  @Test
  void theHtmlReportIsOneSelfContainedPageWithItsCharts() {
    StringWriter out = new StringWriter();
    CommandLine cli = LoadTest.commandLine();
    cli.setOut(new PrintWriter(out));
    assertThat(cli.execute("--target", "127.0.0.1:" + server.grpcPort(), "--insecure", "-O", "html",
        "--model", "mlp", "--rps", "200", "-z", "2s")).isZero();
    String html = out.toString();
    assertThat(html).startsWith("<!DOCTYPE html>").contains("</html>")
        .contains("Latency over time", "Throughput over time", "Latency histogram", "<polyline", "<rect")
        .doesNotContain("<script", "src=", "href=", "@import"); // nothing fetched: it opens offline
    assertThat(html).contains("seconds into the run", "latency (ms)", "answers per second", "calls started per second",
        "Latency histogram (log scale)", "<h2>Options</h2>", "load-schedule");
  }

  /** A run with a slow first second and an outage in the middle, drawn as such. */
  @Test
  void theHtmlReportShowsOutagesAndDoesNotLetTheFirstSecondsSetTheScale() {
    org.HdrHistogram.Histogram latencies = new org.HdrHistogram.Histogram(3);
    for (int i = 0; i < 1000; i++) {
      latencies.recordValue(1_000_000 + i * 1000L);
    }
    latencies.recordValue(400_000_000);
    Report r = Report.of(latencies, 8_000_000_000L, Map.of("OK", 1001L), Map.of());
    for (int second : new int[] {0, 1, 2, 3, 6, 7}) { // nothing answered in seconds 4 and 5
      Map<String, Object> point = new LinkedHashMap<>();
      point.put("second", (long) second);
      point.put("count", 150L);
      point.put("p50", second == 0 ? 300_000_000L : 1_000_000L);
      point.put("p99", second == 0 ? 400_000_000L : 2_000_000L);
      r.series.add(point);
    }
    r.options.put("model", "mlp");
    r.options.put("host", "localhost:8001");
    String html = HtmlReport.render(r);
    assertThat(html.split("class=\"p99\"", -1)).as("the p99 line breaks at the outage: two segments").hasSize(3);
    int throughput = html.indexOf("<h2>Throughput over time");
    String bars = html.substring(throughput, html.indexOf("</svg>", throughput));
    assertThat(bars.split("<rect", -1)).as("a bar for each of the 8 seconds, the outage's at zero").hasSize(9);
    assertThat(bars).contains("height=\"0.0\"");
    assertThat(html).contains("The first 2 seconds reached 400.00 ms (p99)");
    assertThat(r.logHistogram.stream().mapToLong(b -> ((Number) b.get("count")).longValue()).sum()).isEqualTo(1001);
  }

  @Test
  void theSpikeScenarioReportsErrorsAndRecovery() {
    // 50 rps for 1 s, 400 rps for 1 s, 50 rps for 2 s.
    JsonObject report = run("--model", "mlp", "--scenario", "spike", "--spike-base", "50", "--spike-peak", "400",
        "--spike-phase", "1s");
    var timeline = report.getAsJsonArray("timeline");
    assertThat(timeline.get(0).getAsJsonObject().get("started").getAsLong()).isBetween(45L, 55L);
    assertThat(timeline.get(1).getAsJsonObject().get("started").getAsLong()).isBetween(380L, 420L);
    assertThat(timeline.get(2).getAsJsonObject().get("started").getAsLong()).isBetween(45L, 55L);
    JsonObject spike = report.getAsJsonObject("spike");
    for (String field : new String[] {"errorRateBefore", "errorRateDuring", "errorRateAfter", "p99BeforeMs",
        "worstP99Ms", "recoverySeconds"}) {
      assertThat(spike.has(field)).as(field).isTrue();
    }
    assertThat(spike.get("errorRateDuring").getAsDouble()).isBetween(0.0, 1.0);
    assertThat(spike.get("worstP99Ms").getAsDouble()).isGreaterThanOrEqualTo(spike.get("p99BeforeMs").getAsDouble());
    assertThat(report.get("count").getAsLong()).as("50 + 400 + 2 x 50").isBetween(530L, 570L);
  }

  @Test
  void aConcurrencyScheduleAddsCallersStepByStep() {
    // 1 caller, one more every second, up to 3: the timeline shows 1, 2 and 3 callers.
    JsonObject report = run("--model", "mlp", "--concurrency-schedule", "step", "--concurrency-start", "1",
        "--concurrency-step", "1", "--concurrency-step-duration", "1s", "--concurrency-end", "3", "-z", "3s");
    var timeline = report.getAsJsonArray("timeline");
    assertThat(timeline).hasSize(3);
    for (int i = 0; i < 3; i++) {
      assertThat(timeline.get(i).getAsJsonObject().get("callers").getAsLong()).isEqualTo(i + 1);
    }
  }

  @Test
  void failuresAreCountedByStatusAndMessage() {
    JsonObject report = run("--model", "mlp", "-c", "2", "-n", "20", "--batch", "100");
    assertThat(report.getAsJsonObject("statusCodeDistribution").get("InvalidArgument").getAsLong()).isEqualTo(20);
    assertThat(report.getAsJsonObject("errorDistribution").keySet()).singleElement()
        .asString().startsWith("rpc error: code = InvalidArgument desc = ").contains("batch size 100");
  }

  @Test
  void expiredDeadlinesAreOneRowAsInGhz() {
    JsonObject report = run("--model", "mlp", "-c", "2", "-n", "30", "-t", "1ns");
    assertThat(report.getAsJsonObject("statusCodeDistribution").get("DeadlineExceeded").getAsLong()).isEqualTo(30);
    assertThat(report.getAsJsonObject("errorDistribution").keySet()).containsExactly(
        "rpc error: code = DeadlineExceeded desc = context deadline exceeded");
  }

  @Test
  void theRepositorysGhzConfigFilesRunWithTheCommandLineWinning(@TempDir Path dir) throws Exception {
    try (var files = Files.list(Path.of("ghz"))) {
      List<Path> configs = files.filter(f -> f.toString().endsWith(".json")).sorted().toList();
      assertThat(configs).hasSizeGreaterThanOrEqualTo(3);
      for (Path config : configs) {
        StringWriter out = new StringWriter();
        CommandLine cli = LoadTest.commandLine();
        cli.setOut(new PrintWriter(out));
        // The file says localhost:8001 and 10 s; the command line's target and duration win.
        int exit = cli.execute("--config", config.toString(), "-z", "300ms", "-O", "json", "127.0.0.1:" + server.grpcPort());
        assertThat(exit).as(config + ": " + out).isZero();
        JsonObject report = JsonParser.parseString(out.toString()).getAsJsonObject();
        assertThat(report.get("count").getAsLong()).as(config.toString()).isPositive();
        assertThat(report.getAsJsonObject("statusCodeDistribution").keySet()).as(config.toString()).containsExactly("OK");
        assertThat(report.getAsJsonObject("options").get("concurrency").getAsInt()).as("from the file").isEqualTo(16);
      }
    }
    Path unknown = dir.resolve("misspelt.json");
    Files.writeString(unknown, "{\"concurency\": 4}");
    StringWriter err = new StringWriter();
    CommandLine cli = LoadTest.commandLine();
    cli.setErr(new PrintWriter(err));
    assertThat(cli.execute("--config", unknown.toString(), "127.0.0.1:" + server.grpcPort())).isEqualTo(2);
    assertThat(err.toString()).contains("unknown setting \"concurency\"");
  }

  private static String output(String format) {
    StringWriter out = new StringWriter();
    CommandLine cli = LoadTest.commandLine();
    cli.setOut(new PrintWriter(out));
    assertThat(cli.execute("--insecure", "--model", "mlp", "-c", "2", "-n", "40", "-O", format,
        "127.0.0.1:" + server.grpcPort())).as(out.toString()).isZero();
    return out.toString();
  }

  @Test
  void ghzsOtherOutputFormats() {
    List<String> csv = output("csv").lines().toList();
    assertThat(csv.get(0)).isEqualTo("duration (ms),status,error");
    assertThat(csv.subList(1, csv.size())).hasSize(40).allMatch(l -> l.matches("\\d+\\.\\d{2},OK,"));

    String summary = output("influx-summary").strip();
    assertThat(summary.lines()).hasSize(1);
    assertThat(summary).startsWith("ghz_run,call=").contains(",n=40,c=2,", "has_errors=false count=40,", ",median=", ",p95=")
        .matches(".* \\d{15,}$");
    List<String> details = output("influx-details").lines().toList();
    assertThat(details).hasSize(40).allSatisfy(l -> assertThat(l).startsWith("ghz_detail,")
        .contains("hasError=false latency=", "status=\"OK\""));

    String prometheus = output("prometheus");
    assertThat(prometheus).contains("# TYPE ghz_run_count gauge\n", "# TYPE ghz_run_histogram histogram\n",
        "# TYPE ghz_run_latency summary\n", "quantile=\"0.99\"");
    assertThat(prometheus.lines().filter(l -> l.startsWith("ghz_run_count{")).findFirst().orElseThrow()).endsWith(" 40");
    assertThat(prometheus.lines().filter(l -> l.contains("le=\"+Inf\"")).findFirst().orElseThrow()).endsWith(" 40");
    assertThat(prometheus.lines().filter(l -> l.startsWith("ghz_run_errors{")).findFirst().orElseThrow()).endsWith(" 0");

    String pretty = output("pretty");
    assertThat(pretty).contains("\n  \"count\": 40");
    assertThat(JsonParser.parseString(pretty).getAsJsonObject().get("count").getAsLong()).isEqualTo(40);
  }

  @Test
  void ghzTemplatesAreRenderedForEveryCall() {
    String data = "{\"model_name\": \"mlp\", \"id\": \"r-{{.RequestNumber}}-{{newUUID}}\", \"inputs\": [{\"name\": \"x\", "
        + "\"datatype\": \"FP32\", \"shape\": [1, 8], \"contents\": {\"fp32_contents\": [{{randomInt 1 9}}, 2, 3, 4, "
        + "{{.RequestNumber}}, 6, 7, 8]}}]}";
    JsonObject report = run("-d", data, "-n", "30", "-c", "1");
    assertThat(report.getAsJsonObject("statusCodeDistribution").get("OK").getAsLong())
        .as("actions where JSON needs numbers are rendered before parsing, as in ghz").isEqualTo(30);
    assertThat(RequestTemplate.render("a{{.RequestNumber}}b{{ .RequestNumber }}", 7)).isEqualTo("a7b7");
    assertThat(RequestTemplate.render("{{.UUID}}", 0)).matches("[0-9a-f-]{36}");
    assertThat(RequestTemplate.render("{{randomString 12}}", 0)).hasSize(12);
    StringWriter err = new StringWriter();
    CommandLine cli = LoadTest.commandLine();
    cli.setErr(new PrintWriter(err));
    assertThat(cli.execute("--insecure", "-d", "{\"model_name\": \"mlp\", \"id\": \"{{.WorkerFoo}}\"}",
        "127.0.0.1:" + server.grpcPort())).isEqualTo(2);
    assertThat(err.toString()).contains("{{.WorkerFoo}} is not one");
  }

  @Test
  void maxDurationStopsARunOfTooManyCalls() {
    long start = System.nanoTime();
    JsonObject report = run("--model", "mlp", "-c", "2", "-n", "10000000", "-x", "300ms");
    assertThat(report.get("count").getAsLong()).isPositive().isLessThan(10_000_000);
    assertThat(report.get("endReason").getAsString()).isEqualTo("timeout");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(20));
  }

  @Test
  void loadMaxDurationHoldsTheRateWhereTheRampGotToAsInGhz() {
    LoadSchedule ramp = new LoadSchedule("step", 100, 0, 100, 1).withMaxRamp(2);
    assertThat(ramp.rateAt(0.5)).isEqualTo(100);
    assertThat(ramp.rateAt(1.5)).isEqualTo(200);
    assertThat(ramp.rateAt(2.5)).as("held").isEqualTo(300);
    assertThat(ramp.rateAt(9)).isEqualTo(300);
    JsonObject report = run("--model", "mlp", "--load-schedule", "step", "--load-start", "40", "--load-step", "40",
        "--load-step-duration", "1s", "--load-max-duration", "1s", "-z", "3s");
    var timeline = report.getAsJsonArray("timeline");
    assertThat(timeline.size()).isGreaterThanOrEqualTo(3);
    assertThat(timeline.get(0).getAsJsonObject().get("started").getAsLong()).isBetween(35L, 45L);
    assertThat(timeline.get(1).getAsJsonObject().get("started").getAsLong()).isBetween(75L, 85L);
    assertThat(timeline.get(2).getAsJsonObject().get("started").getAsLong()).as("held at 80/s, not 120/s").isBetween(75L, 85L);
  }

  @Test
  void badInputAndAMissingServerAreOneLineErrors() throws Exception {
    int unused;
    try (ServerSocket s = new ServerSocket(0)) {
      unused = s.getLocalPort();
    }
    String[][] runs = {{"--insecure", "-d", "{bad", "127.0.0.1:" + server.grpcPort()},
        {"--insecure", "--model", "mlp", "-n", "1", "127.0.0.1:" + unused},
        {"--insecure", "-D", "/nonexistent/request.json", "127.0.0.1:" + server.grpcPort()}};
    String[] says = {"the data is not a valid ModelInferRequest in JSON", "cannot reach the server: rpc error: code = Unavailable",
        "cannot read /nonexistent/request.json"};
    for (int i = 0; i < runs.length; i++) {
      StringWriter err = new StringWriter();
      CommandLine cli = LoadTest.commandLine();
      cli.setErr(new PrintWriter(err));
      assertThat(cli.execute(runs[i])).isEqualTo(1);
      assertThat(err.toString().strip()).startsWith("junction-loadtest: " + says[i]).doesNotContain("\tat ")
          .doesNotContain("\n");
    }
  }

  @Test
  void numbersAnOptionCannotTakeAreUsageErrorsBeforeAnyCall() throws Exception {
    String[][] runs = {{"-c", "0"}, {"-n", "-5"}, {"-r", "-1"}, {"--batch", "0"}, {"--connections", "0"},
        {"--skipFirst", "-2"}};
    String[] says = {"-c/--concurrency must be at least 1, got 0", "-n/--total must be at least 0 (0: 200, or as many as -z "
        + "allows), got -5", "-r/--rps must be at least 0 (0: as fast as the callers go), got -1",
        "--batch must be at least 1, got 0", "--connections must be at least 1, got 0", "--skipFirst must be at least 0, got -2"};
    long before = successes("mlp");
    for (int i = 0; i < runs.length; i++) {
      StringWriter err = new StringWriter();
      CommandLine cli = LoadTest.commandLine();
      cli.setErr(new PrintWriter(err));
      String[] all = Stream.concat(Stream.of("--insecure", "--model", "mlp"),
          Stream.concat(Arrays.stream(runs[i]), Stream.of("127.0.0.1:"
              + server.grpcPort()))).toArray(String[]::new);
      assertThat(cli.execute(all)).as(err.toString()).isEqualTo(2);
      assertThat(err.toString()).startsWith(says[i]);
    }
    assertThat(successes("mlp")).as("no call was made").isEqualTo(before);
  }

  @Test
  void theSummarySaysWhenAClosedLoopHidesStalls() {
    StringWriter closed = new StringWriter();
    CommandLine cli = LoadTest.commandLine();
    cli.setOut(new PrintWriter(closed));
    assertThat(cli.execute("--insecure", "--model", "mlp", "-c", "2", "-n", "20", "127.0.0.1:" + server.grpcPort())).isZero();
    assertThat(closed.toString()).contains("coordinated omission", "use --rps");
    StringWriter open = new StringWriter();
    CommandLine paced = LoadTest.commandLine();
    paced.setOut(new PrintWriter(open));
    assertThat(paced.execute("--insecure", "--model", "mlp", "--rps", "200", "-z", "200ms", "127.0.0.1:" + server.grpcPort()))
        .isZero();
    assertThat(open.toString()).contains("Pacing error:").doesNotContain("coordinated omission");
  }

  /** ghz's report types (runner.Report and its parts), field for field, as Go would decode our JSON. */
  record GhzReport(String date, String endReason, long count, long total, long average, long fastest, long slowest,
      double rps, Map<String, Integer> errorDistribution, Map<String, Integer> statusCodeDistribution,
      List<GhzLatency> latencyDistribution, List<GhzBucket> histogram, List<GhzDetail> details,
      Map<String, Object> options) {}

  record GhzLatency(int percentage, long latency) {}

  record GhzBucket(double mark, int count, double frequency) {}

  record GhzDetail(String timestamp, long latency, String error, String status) {}

  @Test
  void theJsonDecodesWithGhzsReportTypes() {
    JsonObject json = run("--model", "mlp", "-c", "2", "-n", "40", "-t", "20s");
    GhzReport report = new Gson().fromJson(json, GhzReport.class);
    assertThat(Instant.parse(report.date())).isNotNull();
    assertThat(report.endReason()).isEqualTo("normal");
    assertThat(report.latencyDistribution()).extracting(GhzLatency::percentage).containsExactly(10, 25, 50, 75, 90, 95, 99);
    assertThat(report.statusCodeDistribution()).containsEntry("OK", 40);
    assertThat(report.details()).hasSize(40).allSatisfy(d -> {
      assertThat(Instant.parse(d.timestamp())).isNotNull();
      assertThat(d.latency()).isPositive();
      assertThat(d.status()).isEqualTo("OK");
      assertThat(d.error()).isEmpty();
    });
    assertThat(report.options()).containsEntry("call", "inference.GRPCInferenceService.ModelInfer")
        .containsEntry("total", 40.0).containsEntry("timeout", 2.0e10).containsEntry("insecure", true);
    assertThat(report.histogram().stream().mapToInt(GhzBucket::count).sum()).isEqualTo(40);
  }

  @Test
  void traceCallsGivesEveryCallATraceContextOfItsOwnSampledAsAsked() throws Exception {
    // The server follows its callers' decisions and makes no trace of its own for a call without a context.
    try (OtlpReceiver receiver = new OtlpReceiver();
        JunctionServer traced = new JunctionServer(ServerConfig.loopback(repo), Telemetry
            .autoconfigured(Map.of("otel.traces.exporter", "otlp", "otel.exporter.otlp.protocol", "grpc",
                "otel.exporter.otlp.endpoint", receiver.endpoint(), "otel.bsp.schedule.delay", "50",
                "otel.traces.sampler", "parentbased_always_off"))).start()) {
      Function<String[], Integer> load = args -> {
        CommandLine cli = LoadTest.commandLine();
        cli.setOut(new PrintWriter(new StringWriter()));
        cli.setErr(new PrintWriter(new StringWriter()));
        String[] all = Stream.concat(Stream.of("--target",
            "127.0.0.1:" + traced.grpcPort(), "--insecure", "-O", "json", "--model", "mlp", "-c", "2"),
            Arrays.stream(args)).toArray(String[]::new);
        return cli.execute(all);
      };
      // The load's own calls: the client's warm-up before it calls a model that does not exist.
      Supplier<List<Span>> calls = () -> receiver.spans.stream()
          .filter(s -> s.getName().equals("inference.GRPCInferenceService/ModelInfer"))
          .filter(s -> OtlpReceiver.attribute(s, "junction.model.name").orElse("").equals("mlp"))
          .toList();

      assertThat(load.apply(new String[] {"-n", "10", "--trace-calls", "2"})).as("a fraction above 1").isEqualTo(2);
      assertThat(load.apply(new String[] {"-n", "200", "--trace-calls", "1"})).isZero();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (calls.get().size() < 200 && System.nanoTime() < deadline) {
        Thread.sleep(20); // the exporter sends every 50 ms
      }
      assertThat(calls.get()).hasSize(200)
          .allSatisfy(s -> assertThat(s.getParentSpanId().size()).as("a span continuing its caller's").isEqualTo(8));
      assertThat(calls.get().stream().map(s -> s.getTraceId()).distinct().count()).as("a trace per call").isEqualTo(200);

      receiver.spans.clear();
      assertThat(load.apply(new String[] {"-n", "400", "--trace-calls", "0.5"})).isZero();
      assertThat(load.apply(new String[] {"-n", "100", "--trace-calls", "0"})).isZero();
      assertThat(load.apply(new String[] {"-n", "100"})).isZero();
      traced.close(); // flushes the exporter
      assertThat((long) calls.get().size()).as("half of 400 calls sampled by their callers, none of the others: sd 10")
          .isBetween(150L, 250L);
    }
  }
}
