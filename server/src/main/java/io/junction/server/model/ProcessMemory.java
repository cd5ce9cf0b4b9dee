package io.junction.server.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * The process's resident memory as the kernel counts it, so that what a model load really costs (its
 * native session, arenas and warm-up, which ONNX Runtime's Java API does not report) can be measured
 * as the difference before and after. Empty where there is no procfs.
 */
public interface ProcessMemory {
  OptionalLong residentBytes();

  /** Linux's {@code VmRSS} from {@code /proc/self/status}; empty elsewhere (loads then count their file sizes). */
  static ProcessMemory procfs() {
    Path status = Path.of("/proc/self/status");
    return () -> {
      try {
        for (String line : Files.readAllLines(status)) {
          if (line.startsWith("VmRSS:")) { // "VmRSS:    123456 kB"
            String kb = line.substring("VmRSS:".length()).trim().split("\\s+")[0];
            return OptionalLong.of(Long.parseLong(kb) * 1024);
          }
        }
        return OptionalLong.empty();
      } catch (IOException | RuntimeException e) {
        return OptionalLong.empty();
      }
    };
  }
}
