package io.junction.golden;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipInputStream;

/**
 * Golden cases in a numpy {@code .npz} file ({@code np.savez} or {@code np.savez_compressed}), arrays
 * named by their role:
 *
 * <pre>{@code
 * np.savez("golden.npz", **{"input.x": x, "output.y": y, "atol.y": 1e-4})
 * np.savez("golden.npz", **{"cat/input.image": a, "cat/output.scores": s, "cat/top_k.scores": 1,
 *                          "dog/input.image": b, "dog/output.scores": t, "dog/top_k.scores": 1})
 * }</pre>
 *
 * {@code input.<tensor>} and {@code output.<tensor>} are tensors (the output's shape is checked too);
 * {@code atol.<tensor>}, {@code rtol.<tensor>} and {@code top_k.<tensor>} are scalars setting that output's
 * tolerance. Without a {@code case/} prefix the file is one case named after the file.
 */
final class NpzGoldenFile {
  private static final String NPY = ".npy";

  private NpzGoldenFile() {}

  /** One case's arrays as found, in the file's order. */
  private static final class CaseArrays {
    final Map<String, GoldenTensor> inputs = new LinkedHashMap<>();
    final Map<String, GoldenTensor> outputs = new LinkedHashMap<>();
    final Map<String, Map<String, Double>> tolerances = new LinkedHashMap<>();
  }

  static List<GoldenCase> read(Path file, long budget) throws IOException {
    String fileName = file.getFileName().toString();
    String defaultCase = fileName.endsWith(".npz") ? fileName.substring(0, fileName.length() - 4) : fileName;
    Map<String, CaseArrays> cases = new LinkedHashMap<>();
    long left = budget;
    try (InputStream raw = Files.newInputStream(file); ZipInputStream zip = new ZipInputStream(raw)) {
      for (ZipEntry entry = zip.getNextEntry(); entry != null; entry = zip.getNextEntry()) {
        String key = entry.getName();
        if (entry.isDirectory()) {
          continue;
        }
        if (!key.endsWith(NPY)) {
          throw new IllegalArgumentException("entry '" + key + "' is not a .npy array");
        }
        key = key.substring(0, key.length() - NPY.length());
        int slash = key.lastIndexOf('/');
        String caseName = slash < 0 ? defaultCase : key.substring(0, slash);
        String arrayName = key.substring(slash + 1);
        int dot = arrayName.indexOf('.');
        if (dot <= 0 || dot == arrayName.length() - 1) {
          throw new IllegalArgumentException(unknown(key));
        }
        String role = arrayName.substring(0, dot);
        String tensor = arrayName.substring(dot + 1);
        GoldenTensor array = NpyArray.read(key, zip, left);
        left -= array.data().remaining();
        CaseArrays c = cases.computeIfAbsent(caseName, n -> new CaseArrays());
        switch (role) {
          case "input" -> c.inputs.put(tensor, renamed(array, tensor));
          case "output" -> c.outputs.put(tensor, renamed(array, tensor));
          case "atol", "rtol", "top_k" -> c.tolerances.computeIfAbsent(tensor, t -> new LinkedHashMap<>())
              .put(role, scalar(key, array));
          default -> throw new IllegalArgumentException(unknown(key));
        }
      }
    } catch (ZipException e) {
      throw new IllegalArgumentException("not a readable .npz (zip) file: " + e.getMessage(), e);
    }
    List<GoldenCase> out = new ArrayList<>();
    cases.forEach((name, arrays) -> out.add(toCase(name, arrays)));
    return out;
  }

  private static String unknown(String key) {
    return "array '" + key + "': name arrays input.<tensor>, output.<tensor>, atol.<tensor>, rtol.<tensor> or "
        + "top_k.<tensor>, optionally after '<case>/'";
  }

  private static GoldenTensor renamed(GoldenTensor array, String tensor) {
    byte[] raw = new byte[array.data().remaining()];
    array.data().get(raw);
    return GoldenTensor.of(tensor, array.datatype(), array.shape(), raw);
  }

  private static double scalar(String key, GoldenTensor array) {
    if (array.isBytes() || array.elementCount() != 1) {
      throw new IllegalArgumentException("array '" + key + "' must be a single number");
    }
    return array.numbers()[0];
  }

  private static GoldenCase toCase(String name, CaseArrays arrays) {
    if (arrays.inputs.isEmpty() || arrays.outputs.isEmpty()) {
      throw new IllegalArgumentException("case '" + name + "' needs input.<tensor> and output.<tensor> arrays");
    }
    for (String t : arrays.tolerances.keySet()) {
      if (!arrays.outputs.containsKey(t)) {
        throw new IllegalArgumentException("case '" + name + "' sets tolerances of '" + t + "', which is not one of its "
            + "outputs " + arrays.outputs.keySet());
      }
    }
    List<GoldenCase.ExpectedOutput> expected = new ArrayList<>();
    arrays.outputs.forEach((tensor, array) -> {
      Map<String, Double> t = arrays.tolerances.getOrDefault(tensor, Map.of());
      GoldenCase.Tolerance tolerance = new GoldenCase.Tolerance(
          t.getOrDefault("atol", GoldenCase.Tolerance.DEFAULT_ABSOLUTE),
          t.getOrDefault("rtol", GoldenCase.Tolerance.DEFAULT_RELATIVE), t.getOrDefault("top_k", 0.0).intValue());
      expected.add(new GoldenCase.ExpectedOutput(tensor, array.isBytes() ? new double[0] : array.numbers(),
          array.isBytes() ? array.strings() : List.of(), Optional.of(array.shape()), tolerance));
    });
    return new GoldenCase(name, List.copyOf(arrays.inputs.values()), expected);
  }
}
