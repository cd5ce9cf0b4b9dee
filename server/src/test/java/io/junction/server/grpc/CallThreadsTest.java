package io.junction.server.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.CallOptions;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.junction.server.config.GrpcLimits;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Where a call's callbacks run: the methods named for the transport thread on the event loop that read them (unless
 * their connection's last request was large), every other one on the call executor, one callback at a time, in the
 * call's context, and a handler that throws there fails its call alone. A real endpoint over loopback, with a
 * service whose methods answer with what they saw.
 */
class CallThreadsTest {
  private static final String SERVICE = "test.Threads";
  private static final MethodDescriptor<String, String> ON_TRANSPORT = method("OnTransport");
  private static final MethodDescriptor<String, String> ON_EXECUTOR = method("OnExecutor");
  private static final MethodDescriptor<String, String> THROWS = method("Throws");
  private static final MethodDescriptor<String, String> BLOCKS = method("Blocks");

  private final CountDownLatch blocked = new CountDownLatch(1);
  private final CountDownLatch cancelled = new CountDownLatch(1);
  private GrpcEndpoint endpoint;
  private ManagedChannel channel;

  @BeforeEach
  void start() throws Exception {
    ServerServiceDefinition service = ServerServiceDefinition.builder(SERVICE)
        .addMethod(ON_TRANSPORT, ServerCalls.asyncUnaryCall(CallThreadsTest::whereAmI))
        .addMethod(ON_EXECUTOR, ServerCalls.asyncUnaryCall(CallThreadsTest::whereAmI))
        .addMethod(THROWS, ServerCalls.asyncUnaryCall((request, out) -> {
          throw new IllegalStateException("a handler's bug");
        }))
        .addMethod(BLOCKS, ServerCalls.asyncUnaryCall((request, out) -> {
          Context.current().addListener(c -> cancelled.countDown(), Runnable::run);
          blocked.countDown(); // answers never: the client cancels
        }))
        .build();
    endpoint = new GrpcEndpoint("127.0.0.1", 0, GrpcLimits.DEFAULTS, Optional.empty(), List.of(service), List.of(),
        Set.of(ON_TRANSPORT.getFullMethodName()),
        new IncompleteMessageBudget(GrpcLimits.DEFAULTS.inboundMemory(), Duration.ofSeconds(10), cut -> { }),
        GrpcEndpoint.Events.NONE).start();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", endpoint.port()).usePlaintext().build();
  }

  @AfterEach
  void stop() {
    channel.shutdownNow();
    endpoint.close(Duration.ofSeconds(2));
  }

  /**
   * Answers "thread name | whether the call's deadline is in the current context | whether the thread is a transport
   * thread" (where a short model may run its lone requests).
   */
  private static void whereAmI(String request, StreamObserver<String> out) {
    out.onNext(Thread.currentThread().getName() + "|" + (Context.current().getDeadline() != null) + "|"
        + TransportThread.isCurrent());
    out.onCompleted();
  }

  @Test
  void namedMethodsRunOnTheEventLoopAndTheOthersOnTheExecutorInTheCallsContext() {
    for (int i = 0; i < 20; i++) {
      assertThat(call(ON_TRANSPORT)).matches("junction-grpc-io-\\d+\\|true\\|true");
      assertThat(call(ON_EXECUTOR)).matches("junction-grpc-\\d+\\|true\\|false");
    }
  }

  @Test
  void aConnectionThatSendsLargeRequestsHasItsNextCallsRunOnTheExecutorUntilItSendsASmallOne() throws Exception {
    String large = "x".repeat(GrpcEndpoint.OFFLOAD_REQUEST_BYTES);
    assertThat(call(channel, ON_TRANSPORT, large)).as("the connection's first large request: sizes are known late")
        .startsWith("junction-grpc-io-");
    assertThat(call(channel, ON_TRANSPORT, large)).matches("junction-grpc-\\d+\\|true\\|false");
    assertThat(call(channel, ON_TRANSPORT, "hello")).as("the call that sends a small request still follows the last")
        .matches("junction-grpc-\\d+\\|true\\|false");
    assertThat(call(channel, ON_TRANSPORT, "hello")).startsWith("junction-grpc-io-");

    ManagedChannel other = NettyChannelBuilder.forAddress("127.0.0.1", endpoint.port()).usePlaintext().build();
    try {
      call(channel, ON_TRANSPORT, large);
      assertThat(call(other, ON_TRANSPORT, "hello")).as("another connection is not moved")
          .startsWith("junction-grpc-io-");
      assertThat(call(channel, ON_TRANSPORT, "hello")).startsWith("junction-grpc-").doesNotStartWith("junction-grpc-io-");
    } finally {
      other.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void aHandlerThatThrowsOnTheExecutorFailsItsCallAlone() {
    assertThatThrownBy(() -> call(THROWS)).isInstanceOfSatisfying(StatusRuntimeException.class,
        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNKNOWN));
    assertThat(call(ON_EXECUTOR)).startsWith("junction-grpc-");
    assertThat(call(ON_TRANSPORT)).startsWith("junction-grpc-io-");
  }

  @Test
  void aClientsCancellationReachesACallOnTheExecutor() throws Exception {
    var call = channel.newCall(BLOCKS, CallOptions.DEFAULT);
    var answer = ClientCalls.futureUnaryCall(call, "hello");
    assertThat(blocked.await(10, TimeUnit.SECONDS)).isTrue();
    answer.cancel(true);
    assertThat(cancelled.await(10, TimeUnit.SECONDS)).as("the call's context cancelled").isTrue();
  }

  private String call(MethodDescriptor<String, String> method) {
    return call(channel, method, "hello");
  }

  private static String call(ManagedChannel over, MethodDescriptor<String, String> method, String request) {
    return ClientCalls.blockingUnaryCall(over, method, CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS),
        request);
  }

  private static MethodDescriptor<String, String> method(String name) {
    return MethodDescriptor.<String, String>newBuilder().setType(MethodDescriptor.MethodType.UNARY)
        .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, name))
        .setRequestMarshaller(Utf8.INSTANCE).setResponseMarshaller(Utf8.INSTANCE).build();
  }

  private enum Utf8 implements MethodDescriptor.Marshaller<String> {
    INSTANCE;

    @Override
    public InputStream stream(String value) {
      return new ByteArrayInputStream(value.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public String parse(InputStream stream) {
      try {
        return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new IllegalArgumentException(e);
      }
    }
  }
}
