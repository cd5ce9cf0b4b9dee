package io.junction.testkit;

import java.nio.file.Path;

/**
 * The demo model repository served when Junction starts without {@code --model-repository}. Tests use
 * the same models and constants to check the demo end to end.
 */
public final class DemoRepository {
  public static final String MLP = "mlp";
  public static final int MLP_INPUTS = 8;
  public static final int MLP_OUTPUTS = 4;
  public static final String ADD_SUB = "add_sub";
  public static final String IMAGE_CLASSIFIER = "image_classifier";
  public static final String TEXT_ECHO = "text_echo";

  private DemoRepository() {}

  /** Version {@code v} of the demo MLP; versions 1 and 2 have different weights. */
  public static Mlp mlp(int version) {
    return Mlp.seeded(MLP_INPUTS, MLP_OUTPUTS, version);
  }

  public static ImageClassifier imageClassifier() {
    return ImageClassifier.seeded(3, 48, 192, 5, 7);
  }

  public static Path write(Path root) {
    ModelRepositoryWriter repo = new ModelRepositoryWriter(root);
    repo.model(MLP, 1, mlp(1).onnx())
        .model(MLP, 2, mlp(2).onnx())
        .config(MLP, """
            # A small dense layer y = relu(x.W + b); both versions are served.
            name: "mlp"
            platform: "onnxruntime_onnx"
            max_batch_size: 64
            version_policy: { all {} }
            input [ { name: "x", data_type: TYPE_FP32, dims: [ 8 ] } ]
            output [ { name: "y", data_type: TYPE_FP32, dims: [ 4 ] } ]
            instance_group [ { count: 1, kind: KIND_CPU } ]
            """);
    repo.model(ADD_SUB, 1, FixtureModels.addSub())
        .config(ADD_SUB, """
            name: "add_sub"
            backend: "onnxruntime"
            max_batch_size: 16
            input [
              { name: "A", data_type: TYPE_FP32, dims: [ 3 ] },
              { name: "B", data_type: TYPE_FP32, dims: [ 3 ] }
            ]
            output [
              { name: "SUM", data_type: TYPE_FP32, dims: [ 3 ] },
              { name: "DIFF", data_type: TYPE_FP32, dims: [ 3 ] }
            ]
            """);
    ImageClassifier classifier = imageClassifier();
    repo.model(IMAGE_CLASSIFIER, 1, classifier.onnx())
        .config(IMAGE_CLASSIFIER, """
            name: "image_classifier"
            platform: "onnxruntime_onnx"
            max_batch_size: 8
            input [ { name: "image", data_type: TYPE_FP32, format: FORMAT_NCHW, dims: [ 3, 48, 192 ] } ]
            output [ { name: "probabilities", data_type: TYPE_FP32, dims: [ 5 ] } ]
            """);
    // No config.pbtxt: Junction infers it from the ONNX signature.
    repo.model(TEXT_ECHO, 1, FixtureModels.stringIdentity());
    return root;
  }
}
