package io.junction.server.bench;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.grpc.Drainable;
import io.grpc.MethodDescriptor;
import io.grpc.protobuf.ProtoUtils;
import io.junction.proto.inference.ModelInferResponse;
import io.junction.server.backend.ExecutionTimings;
import io.junction.server.backend.LoadedModel;
import io.junction.server.backend.ModelLoadRequest;
import io.junction.server.backend.OutputBuffers;
import io.junction.server.backend.onnx.OnnxBackend;
import io.junction.server.tensor.BufferPool;
import io.junction.server.tensor.DataType;
import io.junction.server.tensor.Tensor;
import io.junction.testkit.OnnxModelBuilder;
import io.junction.testkit.OnnxType;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a large output costs from ONNX Runtime to the transport, per call, on one thread: a [1,3,224,224] FP32
 * identity model (602 KB out), its answer drained into an array-taking stream as grpc-java's framer does.
 *
 * <ul>
 *   <li><b>floor</b>: serialising an answer whose output is already a heap array (what an echo server pays);
 *   <li><b>copied out</b>: ONNX Runtime's own output memory, copied out into the heap, serialised by protobuf
 *       (Junction before outputs were written in place);
 *   <li><b>in place</b>: written by ONNX Runtime into a pooled direct buffer, serialised by protobuf (Junction
 *       now);
 *   <li><b>run alone</b>: ONNX Runtime's part of the two, without serialising.
 * </ul>
 *
 * <pre>
 * mvn -q -B install -DskipTests
 * taskset -c 1 mvn -q -B -o -pl server exec:java -Dexec.classpathScope=test \
 *   -Dexec.mainClass=io.junction.server.bench.OutputPathBenchmark -Dexec.args="7 2000"
 * </pre>
 * Arguments: rounds (the first is warm-up and not reported in the medians), calls per round and way.
 */
public final class OutputPathBenchmark {
  private static final long[] SHAPE = {1, 3, 224, 224};

  private OutputPathBenchmark() {}

  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 7;
    int calls = args.length > 1 ? Integer.parseInt(args[1]) : 2000;
    Path dir = Files.createTempDirectory("output-path-");
    Path file = new OnnxModelBuilder("image").input("x", OnnxType.FLOAT, OnnxModelBuilder.DYNAMIC, 3, 224, 224)
        .output("y", OnnxType.FLOAT, OnnxModelBuilder.DYNAMIC, 3, 224, 224)
        .node("Identity", List.of("x"), List.of("y")).writeTo(dir.resolve("model.onnx"));
    int bytes = (int) (Arrays.stream(SHAPE).reduce(1, (a, b) -> a * b) * 4);
    ByteBuffer input = ByteBuffer.allocateDirect(bytes).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < bytes / 4; i++) {
      input.putFloat(i * 4, i);
    }
    Map<String, Tensor> inputs = Map.of("x", Tensor.fixed("x", DataType.FP32, SHAPE, input));
    BufferPool pool = new BufferPool(64L << 20, 64L << 20);
    ByteBuffer[] taken = new ByteBuffer[1]; // what the pool handed out (the tensor holds a slice of it)
    OutputBuffers pooled = new OutputBuffers() {
      @Override
      public long batchRows() {
        return 1;
      }

      @Override
      public ByteBuffer allocate(String output, int size) {
        taken[0] = pool.acquire(size);
        return taken[0];
      }
    };
    MethodDescriptor.Marshaller<ModelInferResponse> protobuf = ProtoUtils.marshaller(ModelInferResponse.getDefaultInstance());
    ArraySink sink = new ArraySink(bytes + 1024);
    ByteString heapOutput = ByteString.copyFrom(new byte[bytes]);

    try (OnnxBackend backend = new OnnxBackend();
        LoadedModel model = backend.load(new ModelLoadRequest("image", 1, file, Optional.empty()))) {
      String[] names = {"floor", "copied out", "in place", "run alone, copied out", "run alone, in place"};
      List<List<Double>> perCall = new ArrayList<>();
      for (int w = 0; w < names.length; w++) {
        perCall.add(new ArrayList<>());
      }
      for (int round = 0; round < rounds; round++) {
        for (int way = 0; way < names.length; way++) {
          long start = System.nanoTime();
          for (int i = 0; i < calls; i++) {
            switch (way) {
              case 0 -> drain(protobuf, answer(heapOutput), sink);
              case 1 -> drain(protobuf, answer(model.run(inputs, List.of("y"), new ExecutionTimings())), sink);
              case 2 -> {
                List<Tensor> out = model.run(inputs, List.of("y"), new ExecutionTimings(), pooled);
                drain(protobuf, answer(out), sink);
                pool.release(taken[0]); // the answer is written: the buffer goes back, as the server's lease does
              }
              case 3 -> model.run(inputs, List.of("y"), new ExecutionTimings());
              default -> {
                model.run(inputs, List.of("y"), new ExecutionTimings(), pooled);
                pool.release(taken[0]);
              }
            }
          }
          double micros = (System.nanoTime() - start) / 1e3 / calls;
          if (round > 0) {
            perCall.get(way).add(micros);
          }
        }
      }
      double floor = median(perCall.get(0));
      System.out.printf("OutputPathBenchmark: %d calls per way and round, %d rounds after one of warm-up; %d bytes out;"
          + " %d direct buffers allocated%n", calls, rounds - 1, bytes, pool.allocations());
      System.out.println("| way | µs per call, median (min–max) | over the floor µs |");
      System.out.println("|---|---|---|");
      for (int w = 0; w < names.length; w++) {
        List<Double> m = perCall.get(w);
        System.out.printf("| %s | %.1f (%.1f–%.1f) | %.1f |%n", names[w], median(m), m.stream().mapToDouble(d -> d).min()
            .orElse(0), m.stream().mapToDouble(d -> d).max().orElse(0), median(m) - floor);
      }
    }
  }

  private static ModelInferResponse answer(ByteString output) {
    return ModelInferResponse.newBuilder().setModelName("image").setModelVersion("1")
        .addOutputs(ModelInferResponse.InferOutputTensor.newBuilder().setName("y").setDatatype("FP32")
            .addShape(1).addShape(3).addShape(224).addShape(224))
        .addRawOutputContents(output).build();
  }

  private static ModelInferResponse answer(List<Tensor> outputs) {
    return answer(UnsafeByteOperations.unsafeWrap(outputs.get(0).unsafeData()));
  }

  private static void drain(MethodDescriptor.Marshaller<ModelInferResponse> marshaller, ModelInferResponse answer,
      ArraySink sink) throws IOException {
    try (InputStream in = marshaller.stream(answer)) {
      sink.reset();
      ((Drainable) in).drainTo(sink);
    }
  }

  private static double median(List<Double> values) {
    double[] sorted = values.stream().mapToDouble(d -> d).sorted().toArray();
    return sorted.length == 0 ? Double.NaN : sorted[sorted.length / 2];
  }

  /** Takes arrays only and copies them, as grpc-java's framer does into the transport's buffers. */
  private static final class ArraySink extends OutputStream {
    private final byte[] into;
    private int position;

    ArraySink(int size) {
      into = new byte[size];
    }

    void reset() {
      position = 0;
    }

    @Override
    public void write(int b) {
      into[position++] = (byte) b;
    }

    @Override
    public void write(byte[] b, int off, int len) {
      System.arraycopy(b, off, into, position, len);
      position += len;
    }
  }
}
