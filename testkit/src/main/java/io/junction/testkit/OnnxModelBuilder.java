package io.junction.testkit;

import com.google.protobuf.ByteString;
import io.junction.testkit.onnx.AttributeProto;
import io.junction.testkit.onnx.GraphProto;
import io.junction.testkit.onnx.ModelProto;
import io.junction.testkit.onnx.NodeProto;
import io.junction.testkit.onnx.OperatorSetIdProto;
import io.junction.testkit.onnx.TensorProto;
import io.junction.testkit.onnx.TensorShapeProto;
import io.junction.testkit.onnx.TypeProto;
import io.junction.testkit.onnx.ValueInfoProto;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Writes real ONNX model files from Java, so tests and the demo repository never need a binary model
 * in git. A dimension of {@link #DYNAMIC} becomes a symbolic dimension ({@code dim_param}); the first
 * dynamic dimension of a tensor is named {@code batch} so that every tensor of a model shares it.
 */
public final class OnnxModelBuilder {
  /** Marks a variable-size dimension. */
  public static final long DYNAMIC = -1;

  /** IR version 8 with opset 17 is read by every ONNX Runtime release of the last years. */
  private static final long IR_VERSION = 8;

  private static final int DEFAULT_OPSET = 17;

  private final GraphProto.Builder graph = GraphProto.newBuilder();
  private int opset = DEFAULT_OPSET;
  private int nodeCount;

  public OnnxModelBuilder(String graphName) {
    graph.setName(Objects.requireNonNull(graphName, "graphName"));
  }

  public OnnxModelBuilder opset(int version) {
    if (version < 7) {
      throw new IllegalArgumentException("opset must be at least 7, got " + version);
    }
    this.opset = version;
    return this;
  }

  public OnnxModelBuilder input(String name, OnnxType type, long... dims) {
    graph.addInput(valueInfo(name, type, dims));
    return this;
  }

  public OnnxModelBuilder output(String name, OnnxType type, long... dims) {
    graph.addOutput(valueInfo(name, type, dims));
    return this;
  }

  /** A constant FP32 tensor, row-major. */
  public OnnxModelBuilder initializer(String name, float[] data, long... dims) {
    checkElementCount(name, data.length, dims);
    ByteBuffer raw = ByteBuffer.allocate(data.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    raw.asFloatBuffer().put(data);
    graph.addInitializer(tensor(name, OnnxType.FLOAT, dims).setRawData(ByteString.copyFrom(raw)));
    return this;
  }

  /** A constant INT64 tensor (shapes, axes). */
  public OnnxModelBuilder initializer(String name, long[] data, long... dims) {
    checkElementCount(name, data.length, dims);
    ByteBuffer raw = ByteBuffer.allocate(data.length * Long.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    raw.asLongBuffer().put(data);
    graph.addInitializer(tensor(name, OnnxType.INT64, dims).setRawData(ByteString.copyFrom(raw)));
    return this;
  }

  public OnnxModelBuilder node(String opType, List<String> inputs, List<String> outputs,
      AttributeProto... attributes) {
    graph.addNode(NodeProto.newBuilder()
        .setName(opType.toLowerCase() + "_" + nodeCount++)
        .setOpType(opType)
        .addAllInput(inputs)
        .addAllOutput(outputs)
        .addAllAttribute(Arrays.asList(attributes)));
    return this;
  }

  public static AttributeProto intAttribute(String name, long value) {
    return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT)
        .setI(value).build();
  }

  public static AttributeProto floatAttribute(String name, float value) {
    return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT)
        .setF(value).build();
  }

  public static AttributeProto intsAttribute(String name, long... values) {
    AttributeProto.Builder b = AttributeProto.newBuilder().setName(name)
        .setType(AttributeProto.AttributeType.INTS);
    for (long v : values) {
      b.addInts(v);
    }
    return b.build();
  }

  public byte[] build() {
    return ModelProto.newBuilder()
        .setIrVersion(IR_VERSION)
        .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset))
        .setProducerName("junction-testkit")
        .setProducerVersion("1")
        .setGraph(graph)
        .build()
        .toByteArray();
  }

  public Path writeTo(Path file) {
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      return Files.write(file, build());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write ONNX model " + file, e);
    }
  }

  private static ValueInfoProto valueInfo(String name, OnnxType type, long... dims) {
    TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
    boolean batchNamed = false;
    for (int i = 0; i < dims.length; i++) {
      TensorShapeProto.Dimension.Builder dim = TensorShapeProto.Dimension.newBuilder();
      if (dims[i] == DYNAMIC) {
        dim.setDimParam(batchNamed ? name + "_d" + i : "batch");
        batchNamed = true;
      } else if (dims[i] >= 0) {
        dim.setDimValue(dims[i]);
      } else {
        throw new IllegalArgumentException("dimension " + i + " of " + name + " is " + dims[i]);
      }
      shape.addDim(dim);
    }
    TypeProto.Tensor tensorType = TypeProto.Tensor.newBuilder()
        .setElemType(type.code()).setShape(shape).build();
    return ValueInfoProto.newBuilder().setName(name)
        .setType(TypeProto.newBuilder().setTensorType(tensorType)).build();
  }

  private static TensorProto.Builder tensor(String name, OnnxType type, long... dims) {
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(type.code());
    for (long d : dims) {
      t.addDims(d);
    }
    return t;
  }

  private static void checkElementCount(String name, int length, long... dims) {
    long count = 1;
    for (long d : dims) {
      count *= d;
    }
    if (count != length) {
      throw new IllegalArgumentException(
          "initializer " + name + " has " + length + " values for shape " + Arrays.toString(dims));
    }
  }
}
