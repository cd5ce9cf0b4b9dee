package io.junction.loadtest.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/**
 * The limit L1 of the per-call benchmark: in-process ONNX Runtime on one thread (pin the process to one
 * core), swept over batch sizes; prints each size's rows/s and finally {@code best <rows/s> <batch>}.
 * {@code OrtLimit <model.onnx> <input name> <row width> <millis per size> [sizes, comma-separated]}.
 */
public final class OrtLimit {
  private static final int[] SWEEP = {1, 2, 4, 8, 16, 32, 64, 128};

  private OrtLimit() {}

  public static void main(String[] args) throws Exception {
    Path model = Path.of(args[0]);
    String input = args[1];
    int width = Integer.parseInt(args[2]);
    long millis = Long.parseLong(args[3]);
    int[] sizes = args.length > 4
        ? Arrays.stream(args[4].split(",")).mapToInt(Integer::parseInt).toArray()
        : SWEEP;
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    double best = 0;
    int bestBatch = 0;
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      options.setIntraOpNumThreads(1);
      options.setInterOpNumThreads(1);
      try (OrtSession session = env.createSession(Files.readAllBytes(model), options)) {
        for (int batch : sizes) {
          ByteBuffer data = ByteBuffer.allocateDirect(batch * width * 4).order(ByteOrder.LITTLE_ENDIAN);
          for (int i = 0; i < batch * width; i++) {
            data.putFloat((float) Math.sin(i));
          }
          data.flip();
          try (OnnxTensor x = OnnxTensor.createTensor(env, data.asFloatBuffer(), new long[] {batch, width})) {
            long warm = System.nanoTime() + millis * 500_000L;
            while (System.nanoTime() < warm) {
              session.run(Map.of(input, x)).close();
            }
            long rows = 0;
            long start = System.nanoTime();
            long end = start + millis * 1_000_000L;
            long now;
            do {
              session.run(Map.of(input, x)).close();
              rows += batch;
              now = System.nanoTime();
            } while (now < end);
            double rate = rows / ((now - start) / 1e9);
            System.out.printf("batch %d: %.0f rows/s%n", batch, rate);
            if (rate > best) {
              best = rate;
              bestBatch = batch;
            }
          }
        }
      }
    }
    System.out.printf("best %.0f %d%n", best, bestBatch);
  }
}
