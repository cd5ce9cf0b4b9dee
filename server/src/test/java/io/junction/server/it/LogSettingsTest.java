package io.junction.server.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.LoggerContext;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.junction.proto.inference.GRPCInferenceServiceGrpc;
import io.junction.proto.inference.LogSettingsRequest;
import io.junction.proto.inference.LogSettingsRequest.SettingValue;
import io.junction.proto.inference.LogSettingsResponse;
import io.junction.proto.inference.ServerMetadataRequest;
import io.junction.server.TestServer;
import io.junction.server.config.ServerConfig;
import io.junction.testkit.DemoRepository;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Triton's logging extension: LogSettings over gRPC and {@code /v2/logging} over REST read the log settings and
 * change the levels of the process's log while the server runs, admins only; a bad request changes nothing; the
 * server puts the levels back when it closes. Lines are read where logback.xml's TRACE_CONTEXT appender writes them.
 */
class LogSettingsTest {
  private static final String TOKEN = "log-settings-admin-token-0123456789";
  private static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  /** A logger of Junction's, as the server's own classes name theirs. */
  private static final org.slf4j.Logger junction = LoggerFactory.getLogger("io.junction.server.logsettings.probe");

  @TempDir Path dir;

  @RegisterExtension final WrittenLines written = new WrittenLines();

  @Test
  void anAdminReadsAndChangesTheLogWhileTheServerRuns() throws Exception {
    try (TestServer server = start(ServerConfig.loopback(repo()).withAdminToken(TOKEN))) {
      var admin = admin(server, TOKEN);
      assertThat(values(admin.logSettings(LogSettingsRequest.getDefaultInstance()))).isEqualTo(Map.of(
          "log_file", "", "log_info", true, "log_warning", true, "log_error", true, "log_verbose_level", 0L,
          "log_format", "ISO8601"));
      assertThat(server.blocking().serverMetadata(ServerMetadataRequest.getDefaultInstance()).getExtensionsList())
          .contains("logging");

      junction.debug("debug before");
      assertThat(values(admin.logSettings(change("log_verbose_level", uint(1))))).containsEntry("log_verbose_level", 1L);
      junction.debug("debug after");
      assertThat(written.messages()).contains("debug after").doesNotContain("debug before");

      // Switches, not a threshold: warnings off while information and errors stay on.
      admin.logSettings(change("log_warning", bool(false)));
      junction.info("info 1");
      junction.warn("warning 1");
      junction.error("error 1");
      admin.logSettings(LogSettingsRequest.newBuilder().putSettings("log_warning", bool(true))
          .putSettings("log_info", bool(false)).putSettings("log_error", bool(false)).build());
      junction.info("info 2");
      junction.warn("warning 2");
      junction.error("error 2");
      junction.debug("debug 2");
      assertThat(written.messages()).as("each change is on record, turning information off included")
          .anySatisfy(m -> assertThat(m).startsWith("log settings changed by a request: ")
              .contains("log_info=false", "log_warning=true", "log_error=false"));
      assertThat(written.messages()).contains("info 1", "error 1", "warning 2", "debug 2")
          .doesNotContain("warning 1", "info 2", "error 2");

      LogSettingsResponse allOn = admin.logSettings(LogSettingsRequest.newBuilder()
          .putSettings("log_info", bool(true)).putSettings("log_error", bool(true)).build());
      assertThat(values(allOn)).containsEntry("log_info", true).containsEntry("log_warning", true)
          .containsEntry("log_error", true).containsEntry("log_verbose_level", 1L);
      assertThat(((LoggerContext) LoggerFactory.getILoggerFactory()).getTurboFilterList())
          .as("with every level on, logging pays nothing for the switches").isEmpty();
    }
    assertThat(junction.isDebugEnabled()).as("the server put the root's level back as it closed").isFalse();
    assertThat(((LoggerContext) LoggerFactory.getILoggerFactory()).getTurboFilterList()).isEmpty();
  }

  @Test
  void aBadRequestIsRefusedWithTheSettingNamedAndChangesNothing() throws Exception {
    try (TestServer server = start(ServerConfig.loopback(repo()).withAdminToken(TOKEN))) {
      var admin = admin(server, TOKEN);
      refused(admin, change("log_verbose_level", bool(true)), "'log_verbose_level' must be a whole number");
      refused(admin, change("log_info", uint(1)), "'log_info' must be true or false, got 1");
      refused(admin, change("log_file", string("/tmp/junction.log")), "'log_file' cannot be changed by a request");
      refused(admin, change("log_format", string("default")), "'log_format' is chosen at start (--log-format");
      refused(admin, change("log_infos", bool(false)), "unknown log setting 'log_infos'", "log_verbose_level");
      refused(admin, change("log_error", SettingValue.getDefaultInstance()), "'log_error' has no value");
      // All or nothing: the good setting beside a bad one is not applied either.
      refused(admin, LogSettingsRequest.newBuilder().putSettings("log_info", bool(false))
          .putSettings("log_verbose_level", string("2")).build(), "log_verbose_level", "got '2'");
      assertThat(values(admin.logSettings(change("log_format", string("ISO8601")))))
          .as("naming the format in use is no change").containsEntry("log_info", true)
          .containsEntry("log_verbose_level", 0L);
    }
  }

  @Test
  void onlyAdminsMayReadOrChangeTheLog() throws Exception {
    try (TestServer server = start(ServerConfig.loopback(repo()).withAdminToken(TOKEN))) {
      unauthenticated(() -> admin(server, "not-the-token-0123456789").logSettings(change("log_verbose_level", uint(1))),
          "log settings needs the admin credential");
      unauthenticated(() -> server.blocking().logSettings(LogSettingsRequest.getDefaultInstance()),
          "log settings needs the admin credential");
      assertThat(junction.isDebugEnabled()).isFalse();
    }
    try (TestServer server = start(ServerConfig.loopback(repo()))) {
      unauthenticated(() -> admin(server, TOKEN).logSettings(LogSettingsRequest.getDefaultInstance()),
          "the server has none");
    }
  }

  @Test
  void overRestAsTritonServesIt() throws Exception {
    try (TestServer server = start(ServerConfig.loopback(repo()).withAdminToken(TOKEN))) {
      int port = server.server().httpPort().orElseThrow();
      HttpResponse<String> read = send(port, "GET", null, TOKEN);
      assertThat(read.statusCode()).isEqualTo(200);
      assertThat(json(read)).isEqualTo(JsonParser.parseString("{\"log_file\":\"\",\"log_info\":true,"
          + "\"log_warning\":true,\"log_error\":true,\"log_verbose_level\":0,\"log_format\":\"ISO8601\"}"));

      HttpResponse<String> changed = send(port, "POST", "{\"log_verbose_level\": 1, \"log_info\": null}", TOKEN);
      assertThat(changed.statusCode()).isEqualTo(200);
      assertThat(json(changed).get("log_verbose_level").getAsLong()).isEqualTo(1);
      assertThat(json(changed).get("log_info").getAsBoolean()).as("null changes nothing, as in Triton").isTrue();
      assertThat(junction.isDebugEnabled()).isTrue();

      HttpResponse<String> negative = send(port, "POST", "{\"log_verbose_level\": -1}", TOKEN);
      assertThat(negative.statusCode()).isEqualTo(400);
      assertThat(json(negative).get("error").getAsString()).contains("'log_verbose_level'", "got -1");
      HttpResponse<String> notJson = send(port, "POST", "[1]", TOKEN);
      assertThat(notJson.statusCode()).isEqualTo(400);
      assertThat(json(notJson).get("error").getAsString()).contains("must be a JSON object");

      HttpResponse<String> anonymous = send(port, "POST", "{\"log_verbose_level\": 0}", null);
      assertThat(anonymous.statusCode()).isEqualTo(401);
      assertThat(anonymous.headers().firstValue("WWW-Authenticate")).hasValue("Bearer");
      assertThat(junction.isDebugEnabled()).as("the refused request changed nothing").isTrue();

      HttpResponse<String> put = send(port, "PUT", "{}", TOKEN);
      assertThat(put.statusCode()).isEqualTo(405);
      assertThat(put.headers().firstValue("Allow")).hasValue("GET, HEAD, POST");
      HttpResponse<String> head = send(port, "HEAD", null, TOKEN);
      assertThat(head.statusCode()).isEqualTo(200);
      assertThat(head.body()).isEmpty();
    }
    assertThat(junction.isDebugEnabled()).isFalse();
  }

  private Path repo() throws Exception {
    return DemoRepository.write(dir.resolve("repo-" + System.nanoTime()));
  }

  private static TestServer start(ServerConfig config) throws Exception {
    return TestServer.start(config);
  }

  private static GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub admin(TestServer server, String token) {
    return TestServer.bearer(GRPCInferenceServiceGrpc.newBlockingStub(server.channel()), token)
        .withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  private static LogSettingsRequest change(String name, SettingValue value) {
    return LogSettingsRequest.newBuilder().putSettings(name, value).build();
  }

  private static SettingValue bool(boolean b) {
    return SettingValue.newBuilder().setBoolParam(b).build();
  }

  private static SettingValue uint(int n) {
    return SettingValue.newBuilder().setUint32Param(n).build();
  }

  private static SettingValue string(String s) {
    return SettingValue.newBuilder().setStringParam(s).build();
  }

  /** The response's settings as Boolean, Long and String values. */
  private static Map<String, Object> values(LogSettingsResponse response) {
    Map<String, Object> values = new java.util.HashMap<>();
    response.getSettingsMap().forEach((name, v) -> values.put(name, switch (v.getParameterChoiceCase()) {
      case BOOL_PARAM -> v.getBoolParam();
      case UINT32_PARAM -> Integer.toUnsignedLong(v.getUint32Param());
      case STRING_PARAM -> v.getStringParam();
      case PARAMETERCHOICE_NOT_SET -> "(none)";
    }));
    return values;
  }

  private static void refused(GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub admin,
      LogSettingsRequest request, String... says) {
    assertThatThrownBy(() -> admin.logSettings(request)).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(e.getStatus().getDescription()).contains(says);
    });
    assertThat(values(admin.logSettings(LogSettingsRequest.getDefaultInstance())))
        .containsEntry("log_info", true).containsEntry("log_verbose_level", 0L);
  }

  private static void unauthenticated(Runnable call, String says) {
    assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
      assertThat(e.getStatus().getDescription()).contains(says);
    });
  }

  private static HttpResponse<String> send(int port, String method, String body, String token) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v2/logging"))
        .timeout(Duration.ofSeconds(10))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (token != null) {
      request.header("Authorization", "Bearer " + token);
    }
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static JsonObject json(HttpResponse<String> response) {
    return JsonParser.parseString(response.body()).getAsJsonObject();
  }
}
