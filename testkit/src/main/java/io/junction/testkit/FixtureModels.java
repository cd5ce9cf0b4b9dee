package io.junction.testkit;

import static io.junction.testkit.OnnxModelBuilder.DYNAMIC;

import java.util.List;

/** Small real ONNX models for tests and the demo repository. */
public final class FixtureModels {
  public static final String IDENTITY_INPUT = "INPUT0";
  public static final String IDENTITY_OUTPUT = "OUTPUT0";
  /** Columns of every identity model: {@code [batch, 4]}. */
  public static final int IDENTITY_COLUMNS = 4;

  public static final String ADD_SUB_INPUT_A = "A";
  public static final String ADD_SUB_INPUT_B = "B";
  public static final String ADD_SUB_SUM = "SUM";
  public static final String ADD_SUB_DIFF = "DIFF";
  public static final int ADD_SUB_COLUMNS = 3;

  public static final String STRING_INPUT = "TEXT";
  public static final String STRING_OUTPUT = "TEXT_OUT";

  private FixtureModels() {}

  /** {@code OUTPUT0 = INPUT0}, shape {@code [batch, 4]}, for any element type. */
  public static byte[] identity(OnnxType type) {
    return new OnnxModelBuilder("identity_" + type.name().toLowerCase())
        .input(IDENTITY_INPUT, type, DYNAMIC, IDENTITY_COLUMNS)
        .output(IDENTITY_OUTPUT, type, DYNAMIC, IDENTITY_COLUMNS)
        .node("Identity", List.of(IDENTITY_INPUT), List.of(IDENTITY_OUTPUT))
        .build();
  }

  /** Two inputs, two outputs: {@code SUM = A + B}, {@code DIFF = A - B}, shape {@code [batch, 3]}. */
  public static byte[] addSub() {
    return new OnnxModelBuilder("add_sub")
        .input(ADD_SUB_INPUT_A, OnnxType.FLOAT, DYNAMIC, ADD_SUB_COLUMNS)
        .input(ADD_SUB_INPUT_B, OnnxType.FLOAT, DYNAMIC, ADD_SUB_COLUMNS)
        .output(ADD_SUB_SUM, OnnxType.FLOAT, DYNAMIC, ADD_SUB_COLUMNS)
        .output(ADD_SUB_DIFF, OnnxType.FLOAT, DYNAMIC, ADD_SUB_COLUMNS)
        .node("Add", List.of(ADD_SUB_INPUT_A, ADD_SUB_INPUT_B), List.of(ADD_SUB_SUM))
        .node("Sub", List.of(ADD_SUB_INPUT_A, ADD_SUB_INPUT_B), List.of(ADD_SUB_DIFF))
        .build();
  }

  /** A string tensor passed through: {@code TEXT_OUT = TEXT}, shape {@code [batch]}. */
  public static byte[] stringIdentity() {
    return new OnnxModelBuilder("string_identity")
        .input(STRING_INPUT, OnnxType.STRING, DYNAMIC)
        .output(STRING_OUTPUT, OnnxType.STRING, DYNAMIC)
        .node("Identity", List.of(STRING_INPUT), List.of(STRING_OUTPUT))
        .build();
  }

  /**
   * Loads fine and fails at every run: {@code x [batch, 8]} is reshaped to {@code [-1, 5]}, which 8
   * elements per row never fill. Declares {@code y [batch, 4]} like the demo MLP, so it can stand in as a
   * broken version of it (e.g. a canary that must be rolled back).
   */
  public static byte[] failingAtRuntime() {
    return new OnnxModelBuilder("failing")
        .input("x", OnnxType.FLOAT, DYNAMIC, 8)
        .output("y", OnnxType.FLOAT, DYNAMIC, 4)
        .initializer("bad_shape", new long[] {-1, 5}, 2)
        .node("Reshape", List.of("x", "bad_shape"), List.of("y"))
        .build();
  }
}
