package io.junction.loadtest.bench;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.junction.loadtest.Load;
import io.junction.proto.inference.ModelInferRequest;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A warm closed loop for profiling a server in another process: {@code LoadClient <port> <model>
 * <row width> <callers> <seconds>} sends 1-row FP32 calls for that long, printing calls/s every 5 s
 * (one JVM for the whole run, so the client's own warm-up is over after the first window).
 */
public final class LoadClient {
  private LoadClient() {}

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    String model = args[1];
    int width = Integer.parseInt(args[2]);
    int callers = Integer.parseInt(args[3]);
    long seconds = Long.parseLong(args[4]);
    ByteBuffer data = ByteBuffer.allocate(width * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < width; i++) {
      data.putFloat((float) Math.cos(i));
    }
    ModelInferRequest request = ModelInferRequest.newBuilder().setModelName(model)
        .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("x").setDatatype("FP32")
            .addShape(1).addShape(width))
        .addRawInputContents(ByteString.copyFrom(data.array())).build();
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    for (long done = 0; done < seconds; done += 5) {
      Load.Result r = Load.closedLoop(channel, request, callers, 0, 5000);
      System.out.printf("%.0f calls/s, p50 %.0f µs, p99 %.0f µs, %d failed%n", r.callsPerSecond(), r.p50Micros(),
          r.p99Micros(), r.failures());
    }
    channel.shutdownNow();
  }
}
