package io.junction.server.model;

import io.junction.golden.ActualOutput;
import io.junction.golden.GoldenCase;
import io.junction.golden.GoldenComparison;
import io.junction.golden.GoldenFiles;
import io.junction.golden.GoldenTensor;
import io.junction.server.backend.ExecutionTimings;
import io.junction.server.backend.LoadedModel;
import io.junction.server.backend.ModelLoadException;
import io.junction.server.errors.JunctionException;
import io.junction.server.tensor.DataType;
import io.junction.server.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.LoggerFactory;

/**
 * A version's golden files (inputs and the answers the model must give) run on each loaded copy after
 * warm-up, judged as {@code junction-loadtest check} judges them. A version that answers wrongly does not
 * load, so it never takes traffic; a reload failing this way leaves the versions that serve in place, and
 * the reason (case, output, largest deviation) shows in the repository index.
 */
final class GoldenGate {
  private static final org.slf4j.Logger log = LoggerFactory.getLogger(GoldenGate.class);

  private GoldenGate() {}

  /**
   * @param files the version's golden files; nothing runs when empty
   * @param signature what the version accepts, which each case's inputs must fit as a request's would
   */
  static void run(String label, List<Path> files, ServingSignature signature, List<ModelInstances> copies)
      throws ModelLoadException {
    for (Path file : files) {
      String where = label + ": golden file " + file.getFileName();
      List<GoldenCase> cases;
      try {
        cases = GoldenFiles.read(file, GoldenFiles.DEFAULT_MAX_BYTES);
      } catch (IllegalArgumentException | IOException e) {
        throw new ModelLoadException(label + ": golden file " + e.getMessage(), e);
      }
      for (ModelInstances copy : copies) {
        check(where + " on " + copy.device(), cases, signature, copy.model());
      }
      log.info("{}: {} golden case(s) passed on {}", where, cases.size(), copies.stream().map(ModelInstances::device)
          .toList());
    }
  }

  private static void check(String where, List<GoldenCase> cases, ServingSignature signature, LoadedModel model)
      throws ModelLoadException {
    List<String> failures = new ArrayList<>();
    for (GoldenCase c : cases) {
      String caseLabel = "case '" + c.name() + "'";
      List<Tensor> produced;
      try {
        produced = model.run(inputs(signature, c), outputs(signature, c), new ExecutionTimings());
      } catch (JunctionException | IllegalArgumentException e) {
        throw new ModelLoadException(where + ", " + caseLabel + ": " + e.getMessage(), e);
      }
      List<ActualOutput> answer = new ArrayList<>();
      for (Tensor t : produced) {
        answer.add(t.dataType() == DataType.BYTES
            ? ActualOutput.strings(t.name(), t.shape(), t.elements().stream().map(e -> new String(e,
                StandardCharsets.UTF_8)).toList())
            : ActualOutput.numbers(t.name(), t.shape(), GoldenTensor.numbers(t.dataType().wireName(), t.data())));
      }
      for (GoldenComparison.OutputVerdict v : GoldenComparison.compare(c, answer)) {
        if (!v.passed()) {
          failures.add(caseLabel + ", output " + v.output() + ": " + v.detail());
        }
      }
    }
    if (!failures.isEmpty()) {
      throw new ModelLoadException(where + " fails: " + failures.get(0)
          + (failures.size() > 1 ? " (and " + (failures.size() - 1) + " more)" : ""));
    }
  }

  /** The case's inputs, checked as a request's are (names, datatypes, shapes, batch), in direct buffers. */
  private static Map<String, Tensor> inputs(ServingSignature signature, GoldenCase c) {
    Map<String, Tensor> inputs = new HashMap<>();
    long batch = -1;
    for (GoldenTensor t : c.inputs()) {
      long rows = signature.checkInput(t.name(), t.datatype(), t.shape());
      if (batch >= 0 && rows != batch && signature.batched()) {
        throw new IllegalArgumentException("input '" + t.name() + "' has batch size " + rows + ", another " + batch);
      }
      batch = rows;
      if (t.isBytes()) {
        inputs.put(t.name(), Tensor.bytes(t.name(), t.shape(), t.elements()));
      } else {
        ByteBuffer data = ByteBuffer.allocateDirect(t.data().remaining()).order(ByteOrder.LITTLE_ENDIAN);
        data.put(t.data()).flip();
        inputs.put(t.name(), Tensor.fixed(t.name(), DataType.fromWireName(t.datatype()).orElseThrow(), t.shape(), data));
      }
    }
    for (ServingTensor expected : signature.inputs()) {
      if (!expected.optional() && !inputs.containsKey(expected.name())) {
        throw new IllegalArgumentException("input '" + expected.name() + "' is missing; the model's inputs are "
            + signature.inputNames());
      }
    }
    return inputs;
  }

  /** The outputs the case expects, in the signature's order (as a batch asks for them). */
  private static List<String> outputs(ServingSignature signature, GoldenCase c) {
    if (c.expected().isEmpty()) {
      throw new IllegalArgumentException("it expects no outputs; a golden case checks at least one");
    }
    Set<String> wanted = new HashSet<>(c.outputNames());
    List<String> ordered = new ArrayList<>();
    for (ServingTensor t : signature.outputs()) {
      if (wanted.remove(t.name())) {
        ordered.add(t.name());
      }
    }
    if (!wanted.isEmpty()) {
      throw new IllegalArgumentException("it expects output(s) " + wanted + ", which the model does not have; its "
          + "outputs are " + signature.outputNames());
    }
    return ordered;
  }
}
