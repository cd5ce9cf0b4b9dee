package io.junction.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.junction.server.TestServer;
import io.junction.server.config.HttpLimits;
import io.junction.server.config.ServerConfig;
import io.junction.testkit.DeepMlp;
import io.junction.testkit.DemoRepository;
import io.junction.testkit.ModelRepositoryWriter;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** The probe port holds up against slow and many clients (slowloris), over real sockets. */
class HttpEndpointTest {
  /** A REST inference request of the demo {@code mlp}, as JSON. */
  private static final String MLP_REQUEST =
      "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,8],\"datatype\":\"FP32\",\"data\":[1,2,3,4,5,6,7,8]}]}";

  @TempDir Path dir;

  /**
   * A client that is still sending a body over the cap reads the 413 all the same: the server stops writing, reads
   * and drops what still comes, and closes once the client does (closing a socket with unread bytes in it sends a
   * reset, which can take the answer with it).
   */
  @Test
  void aBodyOverTheCapIsAnsweredWhileItIsStillBeingSent() throws Exception {
    try (TestServer server = demoServer(new HttpLimits(Duration.ofSeconds(10), 8, 64 * 1024))) {
      int port = server.server().httpPort().orElseThrow();
      ByteArrayOutputStream zipped = new ByteArrayOutputStream();
      try (GZIPOutputStream gzip = new GZIPOutputStream(zipped)) {
        byte[] spaces = " ".repeat(1 << 20).getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < 512; i++) {
          gzip.write(spaces); // 512 MiB of JSON whitespace, ~0.5 MB on the wire
        }
      }
      for (boolean compressed : new boolean[] {false, true}) {
        byte[] body = compressed ? zipped.toByteArray() : new byte[2 * 1024 * 1024];
        try (Socket s = new Socket("127.0.0.1", port)) {
          s.setSoTimeout(10_000);
          s.getOutputStream().write(("POST /v2/models/mlp/infer HTTP/1.1\r\nHost: junction\r\n"
              + (compressed ? "Content-Encoding: gzip\r\n" : "") + "Content-Type: application/json\r\n"
              + "Content-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
          int first = body.length / 8; // over the cap already (inflated, or by its declared length)
          s.getOutputStream().write(body, 0, first);
          String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
          assertThat(answer).as(compressed ? "gzip" : "plain").startsWith("HTTP/1.1 413")
              .contains("--http-max-request-bytes");
          // The server has stopped writing, but reads on: the rest of the body still goes out without a reset.
          s.getOutputStream().write(body, first, body.length - first);
          s.getOutputStream().flush();
          Thread.sleep(200);
          s.getOutputStream().write(body, 0, first);
        }
      }
      // A client that keeps sending does not hold the connection: it is closed after the linger.
      try (Socket s = new Socket("127.0.0.1", port)) {
        s.setSoTimeout(10_000);
        s.getOutputStream().write(("POST /v2/models/mlp/infer HTTP/1.1\r\nHost: junction\r\nContent-Length: 999999999\r\n"
            + "\r\n").getBytes(StandardCharsets.US_ASCII));
        assertThat(new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII)).startsWith("HTTP/1.1 413");
        long answered = System.nanoTime();
        byte[] chunk = new byte[16 * 1024];
        boolean reset = false;
        while (!reset && System.nanoTime() - answered < Duration.ofSeconds(10).toNanos()) {
          try {
            s.getOutputStream().write(chunk);
            Thread.sleep(20);
          } catch (SocketException e) {
            reset = true;
          }
        }
        assertThat(reset).as("closed after the linger").isTrue();
        assertThat(Duration.ofNanos(System.nanoTime() - answered)).isBetween(Duration.ofMillis(1_500),
            Duration.ofSeconds(5));
      }
      // Java's own client, sending a body far over the cap: it reads the answer once it has sent the body
      HttpResponse<String> refused = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + port + "/v2/models/mlp/infer")).timeout(Duration.ofSeconds(20))
          .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[32 * 1024 * 1024])).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(refused.statusCode()).isEqualTo(413);
      assertThat(get(port, "/health/live")).isEqualTo(200);
    }
  }

  @Test
  void halfSentRequestsNeitherBlockProbesNorHoldConnections() throws Exception {
    try (TestServer server = demoServer(new HttpLimits(Duration.ofMillis(500), 8, 64 * 1024))) {
      int port = server.server().httpPort().orElseThrow();
      List<Socket> slow = new ArrayList<>();
      try {
        for (int i = 0; i < 4; i++) { // half a request each, then silence
          Socket s = new Socket("127.0.0.1", port);
          s.getOutputStream().write("GET /health/live HTTP/1.1\r\nHost: junction\r\n".getBytes(StandardCharsets.US_ASCII));
          s.getOutputStream().flush();
          slow.add(s);
        }
        assertThat(get(port, "/health/live")).as("a probe while slow clients hang").isEqualTo(200);
        assertThat(get(port, "/metrics")).isEqualTo(200);
        for (Socket s : slow) {
          assertThat(closedByServer(s)).as("a connection that never finished its request is closed").isTrue();
        }
      } finally {
        for (Socket s : slow) {
          s.close();
        }
      }

      List<Socket> many = new ArrayList<>();
      try {
        for (int i = 0; i < 20; i++) {
          many.add(new Socket("127.0.0.1", port));
        }
        int closed = 0;
        for (Socket s : many) {
          closed += closedByServer(s) ? 1 : 0;
        }
        assertThat(closed).as("every idle connection is closed: those over the cap at once, the rest at the timeout")
            .isEqualTo(20);
      } finally {
        for (Socket s : many) {
          s.close();
        }
      }
      assertThat(get(port, "/health/ready")).as("probes work again once the idle ones are gone").isEqualTo(200);
    }
  }

  @Test
  void aClientThatStopsReadingIsClosedAtTheTimeout() throws Exception {
    try (TestServer server = demoServer(new HttpLimits(Duration.ofSeconds(1), 8, 8 * 1024 * 1024))) {
      int port = server.server().httpPort().orElseThrow();
      // Two pipelined echoes of ~7 MB each: more than the kernel's send buffers and a 4 KiB receive window take, so
      // the server is left holding an answer it cannot write until the client reads.
      byte[] body = ("{\"inputs\":[{\"name\":\"TEXT\",\"shape\":[1],\"datatype\":\"BYTES\",\"data\":[\""
          + "x".repeat(7 * 1024 * 1024) + "\"]}]}").getBytes(StandardCharsets.US_ASCII);
      byte[] head = ("POST /v2/models/text_echo/infer HTTP/1.1\r\nHost: junction\r\nContent-Type: application/json\r\n"
          + "Content-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
      try (Socket s = new Socket()) {
        s.setReceiveBufferSize(4096);
        s.connect(new InetSocketAddress("127.0.0.1", port));
        for (int i = 0; i < 2; i++) {
          s.getOutputStream().write(head);
          s.getOutputStream().write(body);
        }
        s.getOutputStream().flush();
        Thread.sleep(3000); // reads nothing for three times the timeout
        assertThat(get(port, "/health/ready")).as("probes meanwhile").isEqualTo(200);

        s.setSoTimeout(10_000);
        InputStream in = s.getInputStream();
        String first = readHead(in);
        assertThat(statusLine(first)).isEqualTo("HTTP/1.1 200 OK");
        long answers = 2L * (first.length() + contentLength(first));
        long received = first.length();
        try {
          for (long n; (n = in.skip(1 << 16)) > 0 || in.read() >= 0; ) {
            received += n > 0 ? n : 1;
          }
        } catch (SocketTimeoutException e) {
          throw new AssertionError("the server kept the connection of a client that stopped reading (" + received
              + " bytes read of " + answers + ")", e);
        } catch (SocketException e) {
          // reset by the server: closed as well
        }
        assertThat(received).as("closed with the answers still unread").isLessThan(answers);
      }
    }
  }

  /** Whether the server closes the connection within a few seconds (end of stream, nothing sent). */
  private static boolean closedByServer(Socket s) throws Exception {
    return ServerCloses.closedByServer(s, Duration.ofSeconds(5));
  }

  /** One HTTP/1.1 response, head and body (by its content-length), read off the stream and no further. */
  private static String readResponse(InputStream in) throws Exception {
    String head = readHead(in);
    return head + new String(in.readNBytes(contentLength(head)), StandardCharsets.US_ASCII);
  }

  private static int get(int port, String path) throws Exception {
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  @Test
  void metricsNegotiateTheFormatCompressAndAnswerHead() throws Exception {
    try (TestServer server = TestServer.start(DemoRepository.write(dir.resolve("repo")))) {
      int port = server.server().httpPort().orElseThrow();
      HttpClient client = HttpClient.newHttpClient();
      URI uri = URI.create("http://127.0.0.1:" + port + "/metrics");
      HttpResponse<String> text = client.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(text.headers().firstValue("content-type").orElseThrow()).startsWith("text/plain");
      assertThat(text.body()).contains("junction_inflight_requests").doesNotContain("# EOF");
      HttpResponse<String> open = client.send(HttpRequest.newBuilder(uri)
          .header("Accept", "application/openmetrics-text; version=1.0.0; charset=utf-8").build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(open.headers().firstValue("content-type").orElseThrow()).startsWith("application/openmetrics-text");
      assertThat(open.body().strip()).endsWith("# EOF");
      HttpResponse<byte[]> zipped = client.send(HttpRequest.newBuilder(uri).header("Accept-Encoding", "gzip").build(),
          HttpResponse.BodyHandlers.ofByteArray());
      assertThat(zipped.headers().firstValue("content-encoding")).contains("gzip");
      String unzipped = new String(new GZIPInputStream(new ByteArrayInputStream(zipped.body()))
          .readAllBytes(), StandardCharsets.UTF_8);
      assertThat(unzipped).contains("junction_inflight_requests");
      assertThat(zipped.body().length).isLessThan(unzipped.length() / 2);
      HttpResponse<String> head = client.send(HttpRequest.newBuilder(uri).method("HEAD", HttpRequest.BodyPublishers.noBody())
          .build(), HttpResponse.BodyHandlers.ofString());
      assertThat(head.statusCode()).isEqualTo(200);
      assertThat(head.body()).isEmpty();
      assertThat(Long.parseLong(head.headers().firstValue("content-length").orElseThrow())).isPositive();
    }
  }

  /**
   * HEAD reads every resource GET does (RFC 9110 §9.3.2): the same status and headers, Content-Length included,
   * and no body, so the next answer on the connection starts where it should. A method a resource does not take is
   * answered 405 with the methods it does take as {@code Allow}.
   */
  @Test
  void headIsAnsweredAsGetWithoutItsBodyAndA405SaysWhatIsAllowed() throws Exception {
    try (TestServer server = TestServer.start(DemoRepository.write(dir.resolve("repo")))) {
      int port = server.server().httpPort().orElseThrow();
      try (Socket s = new Socket("127.0.0.1", port)) {
        s.setSoTimeout(10_000);
        InputStream in = s.getInputStream();
        // Resources whose answer does not change between two reads: HEAD's length is GET's body's.
        for (String path : List.of("/v2", "/v2/models/mlp", "/v2/models/mlp/versions/1", "/v2/models/mlp/config",
            "/v2/models/mlp/ready", "/v2/models/nothing", "/v2/health/ready", "/health/live", "/")) {
          s.getOutputStream().write(("HEAD " + path + " HTTP/1.1\r\nHost: junction\r\n\r\n"
              + "GET " + path + " HTTP/1.1\r\nHost: junction\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
          String head = readHead(in);
          String get = readResponse(in);
          assertThat(statusLine(head)).as("HEAD " + path).isEqualTo(statusLine(get));
          int body = get.length() - get.indexOf("\r\n\r\n") - 4;
          assertThat(contentLength(head)).as("HEAD " + path + ": GET's length").isEqualTo(body);
        }
        // Resources that change from one read to the next: a length, and still no body.
        for (String path : List.of("/metrics", "/v2/status", "/v2/models/stats")) {
          s.getOutputStream().write(("HEAD " + path + " HTTP/1.1\r\nHost: junction\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
          String head = readHead(in);
          assertThat(head).as("HEAD " + path).startsWith("HTTP/1.1 200");
          assertThat(contentLength(head)).as("HEAD " + path).isPositive();
        }
        s.getOutputStream().write("GET /health/live HTTP/1.1\r\nHost: junction\r\n\r\n"
            .getBytes(StandardCharsets.US_ASCII));
        assertThat(readResponse(in)).as("the connection is still in step").startsWith("HTTP/1.1 200").endsWith("OK\n");

        for (String request : List.of("POST /v2/models/mlp", "DELETE /metrics", "PUT /", "POST /v2/health/ready",
            "GET /v2/models/mlp/infer", "HEAD /v2/models/mlp/infer", "GET /v2/repository/index")) {
          s.getOutputStream().write((request + " HTTP/1.1\r\nHost: junction\r\nContent-Length: 0\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
          String answer = request.startsWith("HEAD") ? readHead(in) : readResponse(in);
          boolean posted = request.contains("infer") || request.contains("repository");
          assertThat(answer).as(request).startsWith("HTTP/1.1 405")
              .containsPattern("(?i)allow: " + (posted ? "POST" : "GET, HEAD") + "\r\n");
        }
      }
    }
  }

  /**
   * Pipelined requests are answered in the order they came (RFC 9112 §9.3.2), though an inference on a slow model
   * takes far longer than the metadata requests sent after it: each answer is the one its request asked for.
   */
  @Test
  void pipelinedRequestsAreAnsweredInTheOrderTheyCame() throws Exception {
    Path repo = DemoRepository.write(dir.resolve("repo"));
    new ModelRepositoryWriter(repo).model("slow", 1, DeepMlp.slow().onnx()).config("slow", "max_batch_size: 64\n");
    try (TestServer server = TestServer.start(repo)) {
      int port = server.server().httpPort().orElseThrow();
      StringBuilder rows = new StringBuilder();
      for (int i = 0; i < 16 * 512; i++) {
        rows.append(i == 0 ? "" : ",").append((i % 97) / 97.0);
      }
      String slow = "{\"inputs\":[{\"name\":\"x\",\"shape\":[16,512],\"datatype\":\"FP32\",\"data\":[" + rows + "]}]}";
      String mlp = MLP_REQUEST;
      for (int round = 0; round < 3; round++) {
        try (Socket s = new Socket("127.0.0.1", port)) {
          s.setSoTimeout(30_000);
          s.getOutputStream().write((post("/v2/models/slow/infer", slow) + get("GET", "/v2/models/mlp")
              + get("HEAD", "/v2/models/mlp") + post("/v2/models/mlp/versions/1/infer", mlp)
              + get("GET", "/v2/models/nothing") + get("GET", "/health/live")).getBytes(StandardCharsets.US_ASCII));
          InputStream in = s.getInputStream();
          assertThat(readResponse(in)).startsWith("HTTP/1.1 200").contains("\"model_name\":\"slow\"");
          assertThat(readResponse(in)).startsWith("HTTP/1.1 200").contains("\"name\":\"mlp\"")
              .doesNotContain("model_name");
          assertThat(contentLength(readHead(in))).isPositive();
          assertThat(readResponse(in)).startsWith("HTTP/1.1 200").contains("\"model_name\":\"mlp\"");
          assertThat(readResponse(in)).startsWith("HTTP/1.1 404").contains("'nothing'");
          assertThat(readResponse(in)).startsWith("HTTP/1.1 200").endsWith("OK\n");
        }
      }
      // A client that goes with requests still waiting their turn: they are dropped (the class's leak guard would
      // see one not released), and the server serves on.
      try (Socket s = new Socket("127.0.0.1", port)) {
        s.getOutputStream().write((post("/v2/models/slow/infer", slow) + post("/v2/models/slow/infer", slow)
            + post("/v2/models/mlp/infer", mlp)).getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
      }
      assertThat(get(port, "/v2/models/slow/ready")).isEqualTo(200);
    }
  }

  /**
   * A client that asks before sending its body ({@code Expect: 100-continue}, as curl does for large bodies) is told
   * at once when the body is over the cap, in the REST API's error form, and its connection serves on; an expectation
   * the server does not know is refused the same way. One under the cap is told to go on, and answered.
   */
  @Test
  void aClientThatAsksBeforeSendingIsToldWhyNot() throws Exception {
    try (TestServer server = demoServer(new HttpLimits(Duration.ofSeconds(10), 8, 64 * 1024))) {
      int port = server.server().httpPort().orElseThrow();
      try (Socket s = new Socket("127.0.0.1", port)) {
        s.setSoTimeout(10_000);
        InputStream in = s.getInputStream();
        s.getOutputStream().write(("POST /v2/models/mlp/infer HTTP/1.1\r\nHost: junction\r\nExpect: 100-continue\r\n"
            + "Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        assertThat(readResponse(in)).startsWith("HTTP/1.1 413").contains("\"error\"", "1000000 bytes",
            "--http-max-request-bytes");
        s.getOutputStream().write(("POST /v2/models/mlp/infer HTTP/1.1\r\nHost: junction\r\nExpect: 200-ok\r\n"
            + "Content-Length: 10\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        assertThat(readResponse(in)).startsWith("HTTP/1.1 417").contains("\"error\"", "200-ok");
        String json = MLP_REQUEST;
        s.getOutputStream().write(("POST /v2/models/mlp/infer HTTP/1.1\r\nHost: junction\r\nExpect: 100-continue\r\n"
            + "Content-Length: " + json.length() + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        assertThat(readHead(in)).startsWith("HTTP/1.1 100");
        s.getOutputStream().write(json.getBytes(StandardCharsets.US_ASCII));
        assertThat(readResponse(in)).startsWith("HTTP/1.1 200").contains("\"model_name\":\"mlp\"");
      }
    }
  }

  /** A request the decoder cannot read is answered with the status HTTP has for what was wrong, then closed. */
  @Test
  void unreadableRequestsAreAnsweredWithWhatWasWrong() throws Exception {
    try (TestServer server = TestServer.start(DemoRepository.write(dir.resolve("repo")))) {
      int port = server.server().httpPort().orElseThrow();
      String longPath = "GET /v2/models/" + "a".repeat(5000) + " HTTP/1.1\r\nHost: junction\r\n\r\n";
      String bigHeaders = "GET /v2/models/mlp HTTP/1.1\r\nHost: junction\r\nX-Big: " + "a".repeat(9000) + "\r\n\r\n";
      String garbage = "GET /v2/models/mlp HTTP/1.1\r\nHost: junction\r\nContent-Length: many\r\n\r\n";
      for (String[] c : new String[][] {{longPath, "414", "request line", "4096"},
          {bigHeaders, "431", "headers", "8192"}, {garbage, "400", "not a valid HTTP/1.1 request", "Content-Length"}}) {
        try (Socket s = new Socket("127.0.0.1", port)) {
          s.setSoTimeout(10_000);
          s.getOutputStream().write(c[0].getBytes(StandardCharsets.US_ASCII));
          String answer = readResponse(s.getInputStream());
          assertThat(answer).startsWith("HTTP/1.1 " + c[1]).contains("\"error\"", c[2], c[3]);
          assertThat(closedByServer(s)).isTrue();
        }
      }
    }
  }

  private static String post(String path, String json) {
    return "POST " + path + " HTTP/1.1\r\nHost: junction\r\nContent-Type: application/json\r\nContent-Length: "
        + json.length() + "\r\n\r\n" + json;
  }

  private static String get(String method, String path) {
    return method + " " + path + " HTTP/1.1\r\nHost: junction\r\n\r\n";
  }

  /** A server of the demo repository whose HTTP port has {@code limits}. */
  private TestServer demoServer(HttpLimits limits) throws Exception {
    return TestServer.start(ServerConfig.loopback(DemoRepository.write(dir.resolve("repo"))).withHttpLimits(limits));
  }

  private static String readHead(InputStream in) throws Exception {
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int b = in.read();
      assertThat(b).as("the response's head: " + head).isNotNegative();
      head.append((char) b);
    }
    return head.toString();
  }

  private static String statusLine(String response) {
    return response.substring(0, response.indexOf("\r\n"));
  }

  private static int contentLength(String head) {
    Matcher length = Pattern.compile("(?i)content-length: *(\\d+)").matcher(head);
    assertThat(length.find()).as(head).isTrue();
    return Integer.parseInt(length.group(1));
  }

  @Test
  void stoppingWithKeepAliveConnectionsOpenClosesThemQuietly() throws Exception {
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    ListAppender<ILoggingEvent> events = new ListAppender<>();
    events.start();
    root.addAppender(events);
    List<Socket> kept = new ArrayList<>();
    try {
      TestServer server = TestServer.start(DemoRepository.write(dir.resolve("repo")));
      int port = server.server().httpPort().orElseThrow();
      for (int i = 0; i < 3; i++) { // answered, and left open for the next request
        Socket s = new Socket("127.0.0.1", port);
        s.getOutputStream().write("GET /health/live HTTP/1.1\r\nHost: junction\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
        s.setSoTimeout(5000);
        assertThat(readResponse(s.getInputStream())).startsWith("HTTP/1.1 200");
        kept.add(s);
      }
      server.close();
      for (Socket s : kept) {
        assertThat(closedByServer(s)).as("an open connection is closed as the server stops").isTrue();
      }
      Thread.sleep(500); // what the executors log as they wind down would come by now
      assertThat(events.list).filteredOn(e -> e.getLevel().isGreaterOrEqual(Level.WARN))
          .extracting(ILoggingEvent::getFormattedMessage).isEmpty();
    } finally {
      root.detachAppender(events);
      for (Socket s : kept) {
        s.close();
      }
    }
  }
}
