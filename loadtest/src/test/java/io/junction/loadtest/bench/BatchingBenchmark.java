package io.junction.loadtest.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.junction.loadtest.Load;
import io.junction.proto.inference.GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub;
import io.junction.proto.inference.GRPCInferenceServiceGrpc;
import io.junction.proto.inference.ModelInferRequest;
import io.junction.proto.inference.ModelStatistics;
import io.junction.proto.inference.ModelStatisticsRequest;
import io.junction.server.JunctionServer;
import io.junction.server.config.ServerConfig;
import io.junction.testkit.DeepMlp;
import io.junction.testkit.ModelRepositoryWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Dynamic batching measured against its limit and its alternative, in ONE run on the same machine
 * (issue: batching benchmark). For a batch-friendly model (MLP 512→2048→2048→512) and a tiny one
 * (MLP 8→16→4), with one row per request:
 * <ul>
 *   <li>L: in-process ONNX Runtime at its best batch size (sweep 1..128), as many callers as cores,
 *       same session settings as the server (one intra-op thread);
 *   <li>N: Junction with batching off (no {@code dynamic_batching}) at concurrency 64;
 *   <li>B: Junction with batching on at concurrency 1, 8, 64: throughput, p50, p99, mean batch size;
 *   <li>the p50 Junction adds over in-process ONNX Runtime at concurrency 1 on the tiny model.
 * </ul>
 * Run on demand:
 * {@code mvn -q -B install -DskipTests && mvn -q -B -pl loadtest exec:java -Dexec.classpathScope=test
 * -Dexec.mainClass=io.junction.loadtest.bench.BatchingBenchmark -Dexec.args="2 4000 2 1"}
 * Junction is driven by the load generator's library ({@link Load}); in-process ONNX Runtime by a plain loop.
 * (arguments: repeats, milliseconds measured per point, instances per model, ONNX Runtime intra-op
 * threads per execution in the server).
 */
public final class BatchingBenchmark {
  private static final int[] SWEEP = {1, 2, 4, 8, 16, 32, 64, 128};

  private BatchingBenchmark() {}

  public static void main(String[] args) throws Exception {
    int repeats = args.length > 0 ? Integer.parseInt(args[0]) : 2;
    long millis = args.length > 1 ? Long.parseLong(args[1]) : 4000;
    int instances = args.length > 2 ? Integer.parseInt(args[2]) : 2;
    int intraOp = args.length > 3 ? Integer.parseInt(args[3]) : 1;
    try (ScratchDirectory scratch = new ScratchDirectory("junction-batching-bench-")) {
      run(repeats, millis, instances, intraOp, scratch.path());
    }
  }

  private static void run(int repeats, long millis, int instances, int intraOp, Path repo) throws Exception {
    int cores = Runtime.getRuntime().availableProcessors();
    DeepMlp big = DeepMlp.seeded(1, 512, 2048, 2048, 512);
    DeepMlp tiny = DeepMlp.seeded(2, 8, 16, 4);
    String common = "max_batch_size: 128\ninstance_group [ { count: " + instances + " kind: KIND_CPU } ]\n"
        + "parameters { key: \"intra_op_thread_count\" value: { string_value: \"" + intraOp + "\" } }\n";
    String batched = common + "dynamic_batching { preferred_batch_size: [ 32, 64, 128 ] max_queue_delay_microseconds: 2000 }\n";
    String plain = common;
    new ModelRepositoryWriter(repo)
        .model("big_b", 1, big.onnx()).config("big_b", batched)
        .model("big_n", 1, big.onnx()).config("big_n", plain)
        .model("tiny_b", 1, tiny.onnx()).config("tiny_b", batched)
        .model("tiny_n", 1, tiny.onnx()).config("tiny_n", plain);
    System.out.printf("BatchingBenchmark: %d cores, %d ms per point, %d repeats, %d instances per model, "
        + "%d intra-op threads%n", cores, millis, repeats, instances, intraOp);
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (JunctionServer server = new JunctionServer(ServerConfig.loopback(repo)).start()) {
      ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext().build();
      GRPCInferenceServiceBlockingStub stub = GRPCInferenceServiceGrpc
          .newBlockingStub(channel).withDeadlineAfter(1, TimeUnit.HOURS);
      for (int r = 1; r <= repeats; r++) {
        for (String name : new String[] {"big", "tiny"}) {
          DeepMlp model = name.equals("big") ? big : tiny;
          double limit = 0;
          int bestBatch = 0;
          double ortOneP50 = 0;
          try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(1);
            options.setInterOpNumThreads(1);
            try (OrtSession session = env.createSession(model.onnx(), options)) {
              for (int batch : SWEEP) {
                float[] x = ramp(batch * model.inputs(), 0.01f);
                double rows = InProcess.callsPerSecond(cores, millis / 4, millis / 2,
                    () -> runOrt(env, session, x, batch, model.inputs())) * batch;
                if (rows > limit) {
                  limit = rows;
                  bestBatch = batch;
                }
              }
              float[] one = ramp(model.inputs(), 0.01f);
              ortOneP50 = InProcess.p50Micros(millis / 2, () -> runOrt(env, session, one, 1, model.inputs()));
            }
          }
          ModelInferRequest bReq = rawFp32(name + "_b", "x", ramp(model.inputs(), 0.01f), 1, model.inputs());
          ModelInferRequest nReq = bReq.toBuilder().setModelName(name + "_n").build();
          Load.Result n64 = Load.closedLoop(channel, nReq, 64, millis / 4, millis);
          System.out.printf("run %d %-4s | L %.0f rows/s (best batch %d) | N c=64 %.0f/s p50 %.0f us p99 %.0f us%n",
              r, name, limit, bestBatch, n64.callsPerSecond(), n64.p50Micros(), n64.p99Micros());
          double b64 = 0;
          for (int c : new int[] {1, 8, 64}) {
            ModelStatistics before = stats(stub, name + "_b");
            Load.Result b = Load.closedLoop(channel, bReq, c, millis / 4, millis);
            ModelStatistics after = stats(stub, name + "_b");
            double meanBatch = (double) (after.getInferenceCount() - before.getInferenceCount())
                / Math.max(1, after.getExecutionCount() - before.getExecutionCount());
            System.out.printf("run %d %-4s | B c=%-2d %.0f/s p50 %.0f us p99 %.0f us mean batch %.1f%s%n", r, name, c,
                b.callsPerSecond(), b.p50Micros(), b.p99Micros(), meanBatch,
                c == 1 ? String.format(" | added p50 over ORT %.0f us (ORT p50 %.1f us)", b.p50Micros() - ortOneP50,
                    ortOneP50) : "");
            if (c == 64) {
              b64 = b.callsPerSecond();
            }
          }
          System.out.printf("run %d %-4s | B64/L %.2f  B64/N %.2f%n", r, name, b64 / limit, b64 / n64.callsPerSecond());
        }
      }
      channel.shutdownNow();
    }
  }

  private static ModelStatistics stats(GRPCInferenceServiceBlockingStub stub, String model) {
    return stub.modelStatistics(ModelStatisticsRequest.newBuilder().setName(model).build()).getModelStats(0);
  }

  private static void runOrt(OrtEnvironment env, OrtSession session, float[] x, int batch, int width) {
    ByteBuffer in = ByteBuffer.allocateDirect(x.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    in.asFloatBuffer().put(x);
    try (OnnxTensor t = OnnxTensor.createTensor(env, in.asFloatBuffer(), new long[] {batch, width});
        OrtSession.Result r = session.run(Map.of(DeepMlp.INPUT, t))) {
      ((OnnxTensor) r.get(0)).getByteBuffer();
    } catch (OrtException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A request with one raw FP32 input. */
  static ModelInferRequest rawFp32(String model, String input, float[] data, long... shape) {
    ByteBuffer b = ByteBuffer.allocate(data.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : data) {
      b.putFloat(v);
    }
    var tensor = ModelInferRequest.InferInputTensor.newBuilder().setName(input)
        .setDatatype("FP32");
    for (long d : shape) {
      tensor.addShape(d);
    }
    return ModelInferRequest.newBuilder().setModelName(model).addInputs(tensor)
        .addRawInputContents(ByteString.copyFrom(b.array())).build();
  }

  static float[] ramp(int n, float scale) {
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = ((i * 7919) % 23 - 11) * scale;
    }
    return x;
  }
}
