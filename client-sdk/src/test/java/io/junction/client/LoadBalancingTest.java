package io.junction.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.junction.proto.inference.GRPCInferenceServiceGrpc;
import io.junction.proto.inference.ModelStatisticsRequest;
import io.junction.server.JunctionServer;
import io.junction.server.config.ServerConfig;
import io.junction.testkit.DemoRepository;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One {@code dns:///} name for several servers, as a Kubernetes headless Service names its pods: the name
 * {@code replicas.junction.test} resolves to 127.0.0.1, .2 and .3 through the test JVM's hosts file, and
 * a server listens on each at the same port.
 */
class LoadBalancingTest {
  private static final String NAME = "replicas.junction.test";
  private static final int CALLS = 60;

  @TempDir Path repo;
  private final List<JunctionServer> servers = new ArrayList<>();
  private final List<String> addresses = new ArrayList<>(List.of("127.0.0.1", "127.0.0.2", "127.0.0.3"));
  private int port;

  @BeforeEach
  void startReplicas() throws Exception {
    DemoRepository.write(repo);
    JunctionServer first = new JunctionServer(ServerConfig.loopback(repo)).start();
    servers.add(first);
    port = first.grpcPort();
    for (String address : addresses.subList(1, addresses.size())) {
      servers.add(new JunctionServer(ServerConfig.loopback(repo).withGrpcEndpoint(address, port)).start());
    }
  }

  @AfterEach
  void stopReplicas() {
    servers.forEach(JunctionServer::close);
  }

  @Test
  void roundRobinSpreadsCallsOverEveryAddressOfTheName() {
    try (JunctionClient client = client(LoadBalancing.ROUND_ROBIN)) {
      callMlp(client, CALLS);
    }
    List<Long> perServer = addresses.stream().map(this::mlpCalls).toList();
    assertThat(perServer.stream().mapToLong(Long::longValue).sum()).isEqualTo(CALLS);
    // Calls go to whichever connections are ready; all three are within the first few calls.
    assertThat(perServer).allSatisfy(n -> assertThat(n).isGreaterThanOrEqualTo(CALLS / 6));
  }

  @Test
  void pickFirstSendsEverythingToOneServer() {
    try (JunctionClient client = client(LoadBalancing.PICK_FIRST)) {
      callMlp(client, CALLS);
    }
    List<Long> perServer = addresses.stream().map(this::mlpCalls).toList();
    assertThat(perServer).containsOnlyOnce((long) CALLS).filteredOn(n -> n != CALLS).containsOnly(0L);
  }

  @Test
  void callsCarryOnOverTheOthersWhenOneReplicaStops() {
    try (JunctionClient client = client(LoadBalancing.ROUND_ROBIN)) {
      callMlp(client, 6);
      addresses.remove(1);
      servers.remove(1).close();
      callMlp(client, CALLS);
    }
    long served = addresses.stream().mapToLong(this::mlpCalls).sum();
    assertThat(served).isGreaterThanOrEqualTo(CALLS);
    assertThat(addresses).allSatisfy(a -> assertThat(mlpCalls(a)).isGreaterThan(0));
  }

  private JunctionClient client(LoadBalancing policy) {
    return JunctionClient.builder("dns:///" + NAME + ":" + port).plaintext().loadBalancing(policy)
        .keepAlive(Duration.ofSeconds(30), Duration.ofSeconds(5)).defaultDeadline(Duration.ofSeconds(20)).build();
  }

  private static void callMlp(JunctionClient client, int calls) {
    for (int i = 0; i < calls; i++) {
      InferResult r = client.infer(InferRequest.builder("mlp").version(1)
          .input(InferInput.fp32("x", new float[8], 1, 8)).build());
      assertThat(r.asFloats("y")).hasSize(4);
    }
  }

  /** Successful mlp calls the server at an address counted, asked over that address alone. */
  private long mlpCalls(String address) {
    ManagedChannel channel = ManagedChannelBuilder.forAddress(address, port).usePlaintext().build();
    try {
      return GRPCInferenceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
          .modelStatistics(ModelStatisticsRequest.newBuilder().setName("mlp").setVersion("1").build())
          .getModelStats(0).getInferenceStats().getSuccess().getCount();
    } finally {
      channel.shutdownNow();
    }
  }
}
