package io.junction.server.it;

import static io.junction.server.InferRequests.rawFp32;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.junction.proto.inference.ModelInferRequest;
import io.junction.proto.inference.ModelInferResponse;
import io.junction.server.InferRequests;
import io.junction.server.TestServer;
import io.junction.server.config.ServerConfig;
import io.junction.testkit.DeepMlp;
import io.junction.testkit.ModelRepositoryWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** Clients that cancel or let their deadline pass are normal: answered or dropped, never logged as faults. */
class CancellationTest {
  @TempDir Path repo;

  @Test
  void cancelledAndExpiredCallsAreNotServerFaults() throws Exception {
    new ModelRepositoryWriter(repo).model("slow", 1, DeepMlp.slow().onnx())
        .config("slow", "max_batch_size: 64\ndynamic_batching { }\n");
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    ListAppender<ILoggingEvent> events = new ListAppender<>();
    events.start();
    root.addAppender(events);
    try (TestServer server = TestServer.start(ServerConfig.loopback(repo).withScheduling(1, 1024))) {
      ModelInferRequest request = rawFp32("slow", "", "x", InferRequests.ramp(16 * 512, 0.01f), 16, 512);
      int calls = 120;
      CountDownLatch done = new CountDownLatch(calls);
      Map<Status.Code, Integer> codes = new ConcurrentHashMap<>();
      StreamObserver<ModelInferResponse> observer = new StreamObserver<>() {
        @Override
        public void onNext(ModelInferResponse value) {}

        @Override
        public void onError(Throwable t) {
          codes.merge(Status.fromThrowable(t).getCode(), 1, Integer::sum);
          done.countDown();
        }

        @Override
        public void onCompleted() {
          codes.merge(Status.Code.OK, 1, Integer::sum);
          done.countDown();
        }
      };
      for (int i = 0; i < calls; i++) {
        if (i % 2 == 0) {
          server.async().withDeadlineAfter(5, TimeUnit.MILLISECONDS).modelInfer(request, observer);
        } else {
          Context.CancellableContext context = Context.current().withCancellation();
          context.run(() -> server.async().modelInfer(request, observer));
          Thread.sleep(1);
          context.cancel(null); // the client goes away while its call waits or runs
        }
      }
      assertThat(done.await(120, TimeUnit.SECONDS)).isTrue();
      assertThat(codes.keySet()).containsAnyOf(Status.Code.CANCELLED, Status.Code.DEADLINE_EXCEEDED);
      // The server still serves, and said nothing alarming about any of it.
      server.blocking().modelInfer(request);
      List<ILoggingEvent> alarming;
      synchronized (events) {
        alarming = events.list.stream().filter(e -> e.getLevel().isGreaterOrEqual(Level.WARN)).toList();
      }
      assertThat(alarming).extracting(ILoggingEvent::getFormattedMessage).isEmpty();
    } finally {
      root.detachAppender(events);
    }
  }
}
