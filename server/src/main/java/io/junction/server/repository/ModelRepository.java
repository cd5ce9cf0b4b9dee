package io.junction.server.repository;

import io.junction.golden.GoldenFiles;
import io.junction.proto.inference.ModelConfig;
import io.junction.server.backend.ModelLoadException;
import io.junction.server.errors.ModelNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A Triton-style model repository on disk: {@code <root>/<model>/config.pbtxt} and
 * {@code <root>/<model>/<version>/<model file>}.
 *
 * <p>Nothing a caller names reaches outside the root: model names and file names are plain names
 * (no separators, no {@code ..}), and every path is resolved through symbolic links and checked to lie
 * under the root's real path before it is read.
 */
public final class ModelRepository {
  /** Triton allows most characters; we allow what is safe as one path segment on every OS. */
  private static final Pattern MODEL_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.\\-]{0,254}");
  private static final Pattern VERSION_DIR = Pattern.compile("[0-9]{1,18}");
  private static final String CONFIG_FILE = "config.pbtxt";
  private static final String GOLDEN_PREFIX = "golden";
  /** A config.pbtxt larger than this is not a config. */
  private static final long MAX_CONFIG_BYTES = 1 << 20;
  /** A label file names classes one a line: 16 MiB is tens of thousands of long names. */
  private static final long MAX_LABEL_BYTES = 16L << 20;
  /** A model directory with more files than this is not looked at in full for changes. */
  private static final int MAX_FINGERPRINT_FILES = 10_000;

  private final Path root;
  private final ModelConfigParser parser = new ModelConfigParser();
  /**
   * Each model's config as last parsed, with the text it came from: a load reads a config more than once (its memory
   * estimate, then the load itself), and what the parser warns about should be said once per change of the file.
   */
  private final Map<String, ParsedConfig> parsed = new ConcurrentHashMap<>();

  private record ParsedConfig(String text, ModelConfig config) {}

  public ModelRepository(Path root) {
    try {
      this.root = root.toRealPath();
    } catch (IOException e) {
      throw new UncheckedIOException("model repository " + root + " cannot be read", e);
    }
    if (!Files.isDirectory(this.root)) {
      throw new IllegalArgumentException("model repository " + root + " is not a directory");
    }
  }

  public Path root() {
    return root;
  }

  /** Names of the model directories directly under the root, sorted. */
  public List<String> modelNames() {
    try (Stream<Path> children = Files.list(root)) {
      return children
          .filter(p -> isValidModelName(p.getFileName().toString()))
          .filter(p -> Files.isDirectory(p) && isInsideRoot(p))
          .map(p -> p.getFileName().toString())
          .sorted()
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list model repository " + root, e);
    }
  }

  public static boolean isValidModelName(String name) {
    return name != null && MODEL_NAME.matcher(name).matches() && !name.contains("..");
  }

  /**
   * Reads one model's directory.
   *
   * @throws ModelNotFoundException if the name is not a model directory of this repository
   * @throws ModelLoadException if its config.pbtxt cannot be read or parsed
   */
  public ModelDirectory open(String name) throws ModelLoadException {
    return open(name, Optional.empty());
  }

  /**
   * A model's directory, with {@code override} (when present) in place of its config.pbtxt.
   *
   * @throws ModelLoadException also if the override names another model
   */
  public ModelDirectory open(String name, Optional<ModelConfig> override) throws ModelLoadException {
    Path dir = modelPath(name);
    Optional<ModelConfig> config = override.isPresent() ? Optional.of(named(name, override.get())) : readConfig(name, dir);
    SortedSet<Long> available = versions(dir);
    VersionPolicy policy = config.filter(ModelConfig::hasVersionPolicy)
        .map(c -> VersionPolicy.from(c.getVersionPolicy())).orElse(VersionPolicy.DEFAULT);
    return new ModelDirectory(name, dir, config, available, policy.select(available));
  }

  /** Parses a config override given as JSON (Triton's {@code config} load parameter). */
  public ModelConfig parseConfigOverride(String name, String json) throws ModelLoadException {
    return named(name, parser.parseJson(name, json));
  }

  private static ModelConfig named(String name, ModelConfig config) throws ModelLoadException {
    if (!config.getName().isEmpty() && !config.getName().equals(name)) {
      throw new ModelLoadException("model '" + name + "': the config names the model '" + config.getName()
          + "'; the name must match the directory");
    }
    return config;
  }

  /** The real path of a model directory, checked to be inside the repository. */
  public Path modelPath(String name) {
    if (!isValidModelName(name)) {
      throw new ModelNotFoundException("'" + name + "' is not a valid model name");
    }
    Path dir = root.resolve(name);
    if (!Files.isDirectory(dir) || !isInsideRoot(dir)) {
      throw new ModelNotFoundException("model '" + name + "' is not in the model repository");
    }
    return dir;
  }

  /**
   * A file inside a model version directory, e.g. the model file.
   *
   * @throws ModelLoadException if the file name is not a plain name or the file lies outside the repository
   */
  public Path versionFile(ModelDirectory model, long version, String fileName) throws ModelLoadException {
    if (fileName.isEmpty() || fileName.contains("/") || fileName.contains("\\") || fileName.equals(".")
        || fileName.equals("..")) {
      throw new ModelLoadException("model '" + model.name() + "': model file name '" + fileName
          + "' must be a plain file name inside the version directory");
    }
    Path file = model.path().resolve(Long.toString(version)).resolve(fileName);
    if (Files.exists(file) && !isInsideRoot(file)) {
      throw new ModelLoadException("model '" + model.name() + "' version " + version + ": " + fileName
          + " links outside the model repository");
    }
    return file;
  }

  /**
   * The labels of an output's classes, one a line, from the file an output's {@code label_filename} names in the model's
   * directory (as Triton reads it): a plain file name, a regular file inside the repository.
   *
   * @param label the model version that reads them, for messages
   */
  public List<String> labels(ModelDirectory model, String label, String output, String fileName)
      throws ModelLoadException {
    String what = label + ": output '" + output + "': label_filename '" + fileName + "'";
    if (fileName.isEmpty() || fileName.contains("/") || fileName.contains("\\") || fileName.equals(".")
        || fileName.equals("..")) {
      throw new ModelLoadException(what + " must be a plain file name in the model's directory");
    }
    Path file = model.path().resolve(fileName);
    try {
      if (!Files.isRegularFile(file) || !isInsideRoot(file)) {
        throw new ModelLoadException(what + " is not a regular file inside the model's directory");
      }
      if (Files.size(file) > MAX_LABEL_BYTES) {
        throw new ModelLoadException(what + " is larger than " + MAX_LABEL_BYTES + " bytes");
      }
      return List.copyOf(Files.readAllLines(file, StandardCharsets.UTF_8));
    } catch (IOException | UncheckedIOException e) {
      throw new ModelLoadException(what + " cannot be read: " + e.getMessage(), e);
    }
  }

  /**
   * The golden files of a model version: regular files named {@code golden*.jsonl} or {@code golden*.npz}
   * directly in its version directory, in name order. Links leading out of the repository are refused.
   */
  public List<Path> goldenFiles(ModelDirectory model, long version) throws ModelLoadException {
    Path dir = model.path().resolve(Long.toString(version));
    List<Path> files = new ArrayList<>();
    try (Stream<Path> children = Files.list(dir)) {
      for (Path p : children.sorted().toList()) {
        String n = p.getFileName().toString();
        if (n.startsWith(GOLDEN_PREFIX) && GoldenFiles.isGoldenFileName(n)) {
          if (!isInsideRoot(p) || !Files.isRegularFile(p)) {
            throw new ModelLoadException("model '" + model.name() + "' version " + version + ": " + n
                + " is not a regular file inside the model repository");
          }
          files.add(p);
        }
      }
    } catch (IOException | UncheckedIOException e) {
      throw new ModelLoadException("model '" + model.name() + "' version " + version + ": cannot list its golden files: "
          + e.getMessage(), e);
    }
    return files;
  }

  /**
   * What a model's directory holds now, as a string that changes whenever a file is added, removed,
   * resized or rewritten (paths, sizes and modification times, two levels deep). Empty when the model
   * is not in the repository.
   */
  public String fingerprint(String name) {
    Path dir;
    try {
      dir = modelPath(name);
    } catch (ModelNotFoundException e) {
      return "";
    }
    StringBuilder sb = new StringBuilder();
    try (Stream<Path> files = Files.walk(dir, 2)) {
      files.filter(Files::isRegularFile).sorted().limit(MAX_FINGERPRINT_FILES).forEach(f -> {
        try {
          sb.append(dir.relativize(f)).append(':').append(Files.size(f)).append(':')
              .append(Files.getLastModifiedTime(f).toMillis()).append('\n');
        } catch (IOException e) {
          sb.append(dir.relativize(f)).append(":?\n");
        }
      });
    } catch (IOException | UncheckedIOException e) {
      return "unreadable:" + System.nanoTime(); // forces a reload attempt, which reports the problem
    }
    return sb.toString();
  }

  /** Total size of the files in a version directory (a model's footprint estimate). */
  public long versionBytes(String name, long version) {
    Path dir = modelPath(name).resolve(Long.toString(version));
    try (Stream<Path> files = Files.walk(dir, 3)) {
      return files.filter(Files::isRegularFile).filter(this::isInsideRoot).mapToLong(f -> {
        try {
          return Files.size(f);
        } catch (IOException e) {
          return 0;
        }
      }).sum();
    } catch (IOException | UncheckedIOException e) {
      return 0;
    }
  }

  private Optional<ModelConfig> readConfig(String name, Path dir) throws ModelLoadException {
    Path file = dir.resolve(CONFIG_FILE);
    try {
      if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
        return Optional.empty();
      }
      if (!isInsideRoot(file) || !Files.isRegularFile(file)) {
        throw new ModelLoadException("model '" + name + "': config.pbtxt is not a regular file inside the repository");
      }
      if (Files.size(file) > MAX_CONFIG_BYTES) {
        throw new ModelLoadException("model '" + name + "': config.pbtxt is larger than " + MAX_CONFIG_BYTES + " bytes");
      }
      String text = Files.readString(file, StandardCharsets.UTF_8);
      ParsedConfig last = parsed.get(name);
      if (last != null && last.text().equals(text)) {
        return Optional.of(last.config());
      }
      ModelConfig config = named(name, parser.parse(name, text));
      parsed.put(name, new ParsedConfig(text, config));
      return Optional.of(config);
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      throw new ModelLoadException("model '" + name + "': cannot read config.pbtxt: " + e.getMessage(), e);
    }
  }

  private SortedSet<Long> versions(Path dir) {
    SortedSet<Long> versions = new TreeSet<>();
    try (Stream<Path> children = Files.list(dir)) {
      List<Path> list = new ArrayList<>(children.toList());
      for (Path p : list) {
        String n = p.getFileName().toString();
        if (VERSION_DIR.matcher(n).matches() && Files.isDirectory(p) && isInsideRoot(p)) {
          versions.add(Long.parseLong(n));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + dir, e);
    }
    return versions;
  }

  private boolean isInsideRoot(Path path) {
    try {
      return path.toRealPath().startsWith(root);
    } catch (IOException e) {
      return false;
    }
  }
}
