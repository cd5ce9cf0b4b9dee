package io.junction.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Lays out a Triton-style model repository: {@code <repo>/<model>/config.pbtxt}, {@code <repo>/<model>/<version>/model.onnx}. */
public final class ModelRepositoryWriter {
  private final Path root;

  public ModelRepositoryWriter(Path root) {
    this.root = root;
    try {
      Files.createDirectories(root);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create model repository " + root, e);
    }
  }

  public Path root() {
    return root;
  }

  public ModelRepositoryWriter model(String name, int version, byte[] onnx) {
    return file(name, version + "/model.onnx", onnx);
  }

  public ModelRepositoryWriter config(String name, String configPbtxt) {
    return file(name, "config.pbtxt", configPbtxt.getBytes(StandardCharsets.UTF_8));
  }

  /** Any file under the model's directory, e.g. a corrupt model file. */
  public ModelRepositoryWriter file(String model, String relative, byte[] content) {
    Path target = root.resolve(model).resolve(relative);
    try {
      Files.createDirectories(target.getParent());
      Files.write(target, content);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + target, e);
    }
    return this;
  }
}
