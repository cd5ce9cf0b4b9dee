package io.junction.loadtest.check;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.junction.golden.GoldenCase;
import io.junction.golden.GoldenComparison;
import io.junction.golden.GoldenFiles;
import io.junction.loadtest.ServerOptions;
import io.junction.proto.inference.GRPCInferenceServiceGrpc;
import io.junction.proto.inference.ModelInferRequest;
import io.junction.proto.inference.ModelInferResponse;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine;

/**
 * {@code junction-loadtest check}: does the model still predict what it should? Sends each golden case
 * ({@link GoldenFiles}) to the model and compares the answer within the case's tolerances; prints a line
 * per case and exits 0 only when every case passed, so a CI job or a release script can gate on it.
 */
@Command(name = "check", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Sends golden inputs to a model and checks its answers against the expected outputs; "
        + "exit status 0 when all pass, 1 when any fails.")
public final class CheckCommand implements Callable<Integer> {
  /** The user's own files: a generous bound that still stops a zip bomb. */
  private static final long MAX_GOLDEN_BYTES = 1L << 30;

  @Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--model", required = true, description = "Model or route name.")
  String model;

  @Option(names = "--model-version", defaultValue = "", description = "Version (default: the newest).")
  String version;

  @Option(names = "--golden", required = true, paramLabel = "FILE",
      description = "Golden cases (repeatable): JSON lines (.jsonl; inputs as in the KServe v2 REST protocol, expected "
          + "outputs with atol/rtol or top_k) or numpy .npz (arrays input.<tensor>, output.<tensor>, atol/rtol/top_k"
          + ".<tensor>, optionally prefixed '<case>/').")
  List<Path> golden;

  @Option(names = {"-t", "--timeout"}, defaultValue = "20", description = "Seconds per call (default: ${DEFAULT-VALUE}).")
  long timeoutSeconds;

  @CommandLine.Mixin ServerOptions connection;

  @Override
  public Integer call() throws Exception {
    String server = connection.target(spec.commandLine());
    List<GoldenCase> cases = new ArrayList<>();
    for (Path file : golden) {
      try {
        cases.addAll(GoldenFiles.read(file, MAX_GOLDEN_BYTES));
      } catch (IllegalArgumentException | IOException e) {
        // The file system's exceptions carry only the path as their message; the readers' name the file themselves
        String why = e instanceof NoSuchFileException ? file + ": no such file" : e instanceof AccessDeniedException
            ? file + ": permission denied" : e.getMessage();
        throw new CommandLine.ParameterException(spec.commandLine(), "--golden: " + why);
      }
    }
    PrintWriter out = spec.commandLine().getOut();
    ManagedChannel channel = connection.open(spec.commandLine(), false);
    int passed = 0;
    try {
      var stub = GRPCInferenceServiceGrpc.newBlockingStub(channel);
      for (GoldenCase c : cases) {
        ModelInferRequest request = ProtoGolden.request(c, model, version);
        ModelInferResponse answer;
        try {
          answer = stub.withDeadlineAfter(timeoutSeconds, TimeUnit.SECONDS).modelInfer(request);
        } catch (StatusRuntimeException e) {
          out.printf("ERROR %s: %s%n", c.name(), e.getStatus().getCode() + (e.getStatus().getDescription() == null
              ? "" : ": " + e.getStatus().getDescription()));
          continue;
        }
        List<GoldenComparison.OutputVerdict> verdicts = GoldenComparison.compare(c, ProtoGolden.outputs(answer));
        boolean ok = GoldenComparison.allPassed(verdicts);
        passed += ok ? 1 : 0;
        for (GoldenComparison.OutputVerdict v : verdicts) {
          out.printf("%-5s %s %s: %s%n", v.passed() ? "PASS" : "FAIL", c.name(), v.output(), v.detail());
        }
      }
    } finally {
      channel.shutdownNow();
    }
    out.printf("%d of %d golden cases passed (%s%s on %s)%n", passed, cases.size(), model,
        version.isEmpty() ? "" : " version " + version, server);
    out.flush();
    return passed == cases.size() ? 0 : 1;
  }
}
