package io.junction.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The builder's files are real ONNX: ONNX Runtime loads and runs them and agrees with plain Java. */
class FixtureModelsTest {
  private final OrtEnvironment env = OrtEnvironment.getEnvironment();

  @Test
  void mlpMatchesPlainJava() throws Exception {
    Mlp mlp = Mlp.seeded(8, 4, 1);
    int rows = 3;
    float[] x = new float[rows * 8];
    for (int i = 0; i < x.length; i++) {
      x[i] = (i % 7) - 3f;
    }
    try (OrtSession session = env.createSession(mlp.onnx(), new OrtSession.SessionOptions());
        OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {rows, 8});
        OrtSession.Result result = session.run(Map.of(Mlp.INPUT, in))) {
      float[][] y = (float[][]) result.get(0).getValue();
      float[] expected = mlp.expected(x, rows);
      for (int r = 0; r < rows; r++) {
        for (int j = 0; j < 4; j++) {
          assertThat(y[r][j]).isCloseTo(expected[r * 4 + j], within(1e-5f));
        }
      }
      assertThat(IntStream.range(0, expected.length).filter(i -> expected[i] > 0))
          .as("relu must leave some outputs positive").isNotEmpty();
    }
  }

  @Test
  void imageClassifierMatchesPlainJava() throws Exception {
    ImageClassifier model = ImageClassifier.seeded(3, 4, 6, 5, 7);
    int batch = 2;
    float[] images = new float[batch * 3 * 4 * 6];
    for (int i = 0; i < images.length; i++) {
      images[i] = (float) Math.sin(i);
    }
    try (OrtSession session = env.createSession(model.onnx(), new OrtSession.SessionOptions());
        OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(images),
            new long[] {batch, 3, 4, 6});
        OrtSession.Result result = session.run(Map.of(ImageClassifier.INPUT, in))) {
      float[][] p = (float[][]) result.get(0).getValue();
      float[] expected = model.expected(images, batch);
      for (int n = 0; n < batch; n++) {
        for (int k = 0; k < 5; k++) {
          assertThat(p[n][k]).isCloseTo(expected[n * 5 + k], within(1e-5f));
        }
      }
    }
  }

  @Test
  void stringIdentityEchoes() throws Exception {
    try (OrtSession session = env.createSession(FixtureModels.stringIdentity(),
            new OrtSession.SessionOptions());
        OnnxTensor in = OnnxTensor.createTensor(env, new String[] {"héllo", ""}, new long[] {2});
        OrtSession.Result result = session.run(Map.of(FixtureModels.STRING_INPUT, in))) {
      assertThat((String[]) result.get(0).getValue()).containsExactly("héllo", "");
    }
  }

  @Test
  void identityLoadsForEveryType() throws Exception {
    for (OnnxType type : OnnxType.values()) {
      try (OrtSession session = env.createSession(FixtureModels.identity(type),
          new OrtSession.SessionOptions())) {
        assertThat(session.getInputNames()).containsExactly(FixtureModels.IDENTITY_INPUT);
      }
    }
  }

  @Test
  void deepMlpMatchesPlainJava() throws Exception {
    DeepMlp mlp = DeepMlp.seeded(3, 16, 32, 32, 8);
    int rows = 4;
    float[] x = new float[rows * 16];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) Math.cos(i * 0.3);
    }
    try (OrtSession session = env.createSession(mlp.onnx(), new OrtSession.SessionOptions());
        OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {rows, 16});
        OrtSession.Result result = session.run(Map.of(DeepMlp.INPUT, in))) {
      float[][] y = (float[][]) result.get(0).getValue();
      float[] expected = mlp.expected(x, rows);
      for (int r = 0; r < rows; r++) {
        for (int j = 0; j < 8; j++) {
          assertThat(y[r][j]).isCloseTo(expected[r * 8 + j], within(1e-4f));
        }
      }
    }
  }
}
