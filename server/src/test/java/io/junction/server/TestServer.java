package io.junction.server;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.MetadataUtils;
import io.junction.proto.admin.v1.RouteServiceGrpc;
import io.junction.proto.inference.GRPCInferenceServiceGrpc;
import io.junction.proto.inference.RepositoryIndexRequest;
import io.junction.proto.inference.RepositoryIndexResponse.ModelIndex;
import io.junction.server.config.ServerConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** A real Junction server on a loopback port with a plaintext channel to it; closes both. */
public final class TestServer implements AutoCloseable {
  private final JunctionServer server;
  private final ManagedChannel channel;

  private TestServer(JunctionServer server) {
    this.server = server;
    this.channel = NettyChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext()
        .maxInboundMessageSize(256 * 1024 * 1024).build();
  }

  public static TestServer start(Path repository) throws IOException {
    return start(ServerConfig.loopback(repository));
  }

  public static TestServer start(ServerConfig config) throws IOException {
    return new TestServer(new JunctionServer(config).start());
  }

  /** A server built by the caller (its own backends, devices ...), started here. */
  public static TestServer start(JunctionServer server) throws IOException {
    return new TestServer(server.start());
  }

  public JunctionServer server() {
    return server;
  }

  public ManagedChannel channel() {
    return channel;
  }

  public GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub blocking() {
    return GRPCInferenceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  /** The admin service's routes, calling with {@code token} as the bearer credential; no deadline of its own. */
  public RouteServiceGrpc.RouteServiceBlockingStub routeAdmin(String token) {
    return bearer(RouteServiceGrpc.newBlockingStub(channel), token);
  }

  /** {@code stub} sending {@code Authorization: Bearer <token>} with every call (the admin credential). */
  public static <S extends AbstractStub<S>> S bearer(S stub, String token) {
    Metadata md = new Metadata();
    md.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
    return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md));
  }

  public GRPCInferenceServiceGrpc.GRPCInferenceServiceStub async() {
    return GRPCInferenceServiceGrpc.newStub(channel);
  }

  /** The model's entry in RepositoryIndex (its first, where it has several versions). */
  public ModelIndex indexEntry(String model) {
    return blocking().repositoryIndex(RepositoryIndexRequest.getDefaultInstance()).getModelsList().stream()
        .filter(m -> m.getName().equals(model)).findFirst().orElseThrow();
  }

  /**
   * The value of one series in the server's metrics, written as the text format has it (labels sorted by
   * name), or {@code absent} when the server does not export it.
   */
  public double metric(String series, double absent) throws IOException {
    String text = new String(server.metricsScrape(), StandardCharsets.UTF_8);
    return text.lines().filter(l -> l.startsWith(series + " "))
        .mapToDouble(l -> Double.parseDouble(l.substring(series.length() + 1))).findFirst().orElse(absent);
  }

  @Override
  public void close() {
    try {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      server.close();
    }
  }
}
