package io.junction.server.it;

import static io.junction.server.InferRequests.rawFp32;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.junction.proto.inference.GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub;
import io.junction.proto.inference.ModelInferRequest;
import io.junction.proto.inference.ModelInferResponse;
import io.junction.proto.inference.ModelMetadataRequest;
import io.junction.proto.inference.ModelReadyRequest;
import io.junction.proto.inference.RepositoryModelUnloadRequest;
import io.junction.server.JunctionServer;
import io.junction.server.TestServer;
import io.junction.server.config.ModelControl;
import io.junction.server.config.ServerConfig;
import io.junction.testkit.DemoRepository;
import io.junction.testkit.Mlp;
import io.junction.testkit.ModelRepositoryWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A route over two versions of a fixture model, called like a model over gRPC. */
class RoutingEndToEndTest {
  private static final String ROUTES = """
      routes:
        - name: mlp-ab
          variants:
            - { name: a, model: mlp, version: 1, weight: 70 }
            - { name: b, model: mlp, version: 2, weight: 30 }
          rules:
            - { header: x-tenant, value: acme, variant: b }
      """;

  @TempDir Path dir;

  @Test
  void aRouteSplitsTrafficAndSaysWhichVariantServed() throws Exception {
    Path repo = DemoRepository.write(dir.resolve("repo"));
    Path routes = Files.writeString(dir.resolve("routes.yaml"), ROUTES);
    ModelInferRequest request = rawFp32("mlp-ab", "", "x", new float[8], 1, 8);
    try (TestServer server = TestServer.start(ServerConfig.loopback(repo).withRoutesFile(routes))) {
      // Weighted: 600 calls, 70 % to version 1. Binomial sd = 11.2; bounds are 4.5 sd out.
      Map<String, Integer> versions = new HashMap<>();
      for (int i = 0; i < 600; i++) {
        ModelInferResponse r = server.blocking().modelInfer(request);
        assertThat(r.getModelName()).isEqualTo("mlp");
        String variant = r.getParametersOrThrow("junction_variant").getStringParam();
        assertThat(variant).isEqualTo(r.getModelVersion().equals("1") ? "a" : "b");
        versions.merge(r.getModelVersion(), 1, Integer::sum);
      }
      assertThat(versions.get("1")).isBetween(370, 470);
      assertThat(versions.get("1") + versions.get("2")).isEqualTo(600);

      // The response headers name the route and the variant.
      AtomicReference<Metadata> headers = new AtomicReference<>();
      server.blocking().withInterceptors(MetadataUtils.newCaptureMetadataInterceptor(headers, new AtomicReference<>()))
          .modelInfer(request);
      String variant = headers.get().get(Metadata.Key.of("x-junction-variant", Metadata.ASCII_STRING_MARSHALLER));
      assertThat(variant).isIn("a", "b");
      assertThat(headers.get().get(Metadata.Key.of("x-junction-route", Metadata.ASCII_STRING_MARSHALLER)))
          .isEqualTo("mlp-ab");

      // Sticky keys, rules and pinning.
      String first = with(server, "x-routing-key", "user-7").modelInfer(request).getModelVersion();
      for (int i = 0; i < 20; i++) {
        assertThat(with(server, "x-routing-key", "user-7").modelInfer(request).getModelVersion()).isEqualTo(first);
      }
      for (int i = 0; i < 20; i++) {
        assertThat(with(server, "x-tenant", "acme").modelInfer(request).getModelVersion()).isEqualTo("2");
        assertThat(with(server, "x-junction-variant", "a").modelInfer(request).getModelVersion()).isEqualTo("1");
      }
      assertThat(server.blocking().modelInfer(request.toBuilder().setModelVersion("2").build()).getModelVersion())
          .isEqualTo("2");
      assertThatThrownBy(() -> with(server, "x-junction-variant", "zz").modelInfer(request))
          .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(e.getStatus().getDescription()).contains("route 'mlp-ab' has no variant 'zz'");
          });

      // A route answers ModelMetadata and ModelReady like a model.
      var meta = server.blocking().modelMetadata(ModelMetadataRequest.newBuilder().setName("mlp-ab").build());
      assertThat(meta.getName()).isEqualTo("mlp-ab");
      assertThat(meta.getInputs(0).getShapeList()).containsExactly(-1L, 8L);
      assertThat(server.blocking().modelReady(ModelReadyRequest.newBuilder().setName("mlp-ab").build()).getReady())
          .isTrue();

      // A failed routed call names its route and variant in the trailers.
      AtomicReference<Metadata> trailers = new AtomicReference<>();
      assertThatThrownBy(() -> with(server, "x-junction-variant", "b").withInterceptors(
              MetadataUtils.newCaptureMetadataInterceptor(new AtomicReference<>(), trailers))
          .modelInfer(rawFp32("mlp-ab", "", "x", new float[3], 1, 3)))
          .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(e.getStatus().getDescription()).contains("model 'mlp' version 2", "input 'x'");
          });
      assertThat(trailers.get().get(Metadata.Key.of("x-junction-variant", Metadata.ASCII_STRING_MARSHALLER)))
          .isEqualTo("b");
      assertThat(trailers.get().get(Metadata.Key.of("x-junction-route", Metadata.ASCII_STRING_MARSHALLER)))
          .isEqualTo("mlp-ab");

      String metrics = new String(server.server().metricsScrape(), StandardCharsets.UTF_8);
      assertThat(metrics).contains("junction_route_request_duration_seconds_count{outcome=\"success\",route=\"mlp-ab\",variant=\"a\"}");
    }
  }

  @Test
  void anInvalidRoutesFileStopsTheServerFromStartingWithTheReason() throws Exception {
    Path repo = DemoRepository.write(dir.resolve("repo"));
    Path routes = Files.writeString(dir.resolve("routes.yaml"), ROUTES.replace("model: mlp, version: 2", "model: nope"));
    JunctionServer server = new JunctionServer(ServerConfig.loopback(repo).withRoutesFile(routes));
    assertThatThrownBy(server::start).hasMessageContaining("variant 'b' names model 'nope', which is not in the model repository");
  }

  @Test
  void routesMustNameExistingVersionsAndProtectTheirModelsFromUnload() throws Exception {
    Path repo = DemoRepository.write(dir.resolve("repo"));
    Path badVersion = Files.writeString(dir.resolve("bad.yaml"), ROUTES.replace("version: 2", "version: 9"));
    assertThatThrownBy(() -> new JunctionServer(ServerConfig.loopback(repo).withRoutesFile(badVersion)).start())
        .hasMessageContaining("variant 'b' names version 9 of model 'mlp', which the model repository does not have");

    // A shadow's version is checked like a variant's.
    Path badShadow = Files.writeString(dir.resolve("shadow.yaml"), ROUTES + "    shadow: { model: mlp, version: 9, fraction: 0.5 }\n");
    assertThatThrownBy(() -> new JunctionServer(ServerConfig.loopback(repo).withRoutesFile(badShadow)).start())
        .hasMessageContaining("route 'mlp-ab' shadows version 9 of model 'mlp'");
    // A version that exists on disk but that the model's version_policy does not serve is refused too.
    ModelRepositoryWriter writer = new ModelRepositoryWriter(repo)
        .model("latest_only", 1, Mlp.seeded(8, 4, 1).onnx())
        .model("latest_only", 2, Mlp.seeded(8, 4, 2).onnx())
        .config("latest_only", "max_batch_size: 8\n"); // default policy: the latest version only
    Path unserved = Files.writeString(dir.resolve("unserved.yaml"), ROUTES.replace("model: mlp, version: 1", "model: latest_only, version: 1"));
    assertThatThrownBy(() -> new JunctionServer(ServerConfig.loopback(repo).withRoutesFile(unserved)).start())
        .hasMessageContaining("variant 'a' names version 1 of model 'latest_only'", "version_policy serves");
    // Two routes named like models: always the same one is blamed (name order), whatever the map's order.
    Path clashing = Files.writeString(dir.resolve("clash.yaml"), ROUTES.replace("- name: mlp-ab", "- name: mlp")
        + ROUTES.substring(ROUTES.indexOf("  - name")).replace("- name: mlp-ab", "- name: add_sub"));
    for (int i = 0; i < 5; i++) {
      assertThatThrownBy(() -> new JunctionServer(ServerConfig.loopback(repo).withRoutesFile(clashing)).start())
          .hasMessageContaining("route 'add_sub' has the name of a model");
    }

    Path routes = Files.writeString(dir.resolve("routes.yaml"), ROUTES);
    try (TestServer server = TestServer.start(ServerConfig.loopback(repo).withRoutesFile(routes)
        .withControl(ModelControl.explicit(Set.of("*"))).withOpenRepositoryApi())) {
      assertThatThrownBy(() -> server.blocking().repositoryModelUnload(
          RepositoryModelUnloadRequest.newBuilder().setModelName("mlp").build()))
          .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
            assertThat(e.getStatus().getDescription()).contains("cannot unload model 'mlp'", "routes [mlp-ab]");
          });
      server.blocking().repositoryModelUnload(
          RepositoryModelUnloadRequest.newBuilder().setModelName("add_sub").build());
    }
  }

  private static GRPCInferenceServiceBlockingStub with(TestServer server, String key, String value) {
    Metadata md = new Metadata();
    md.put(Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER), value);
    return server.blocking().withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md));
  }
}
