package io.junction.gpu;

import org.bytedeco.cuda.global.cudart;

/**
 * The CUDA runtime calls' status codes as exceptions. Touching {@link cudart} loads the native libraries
 * (JavaCPP's and CUDA's), which throws a {@link LinkageError} on a machine without them: callers at the
 * edges (device discovery, a model load) catch it and say so in one line.
 */
final class Cuda {
  private Cuda() {}

  static void check(int status, String call) {
    if (status != cudart.cudaSuccess) {
      throw new CudaException(call + " failed: " + cudart.cudaGetErrorString(status).getString() + " (CUDA error "
          + status + ")");
    }
  }

  static void useDevice(int index) {
    check(cudart.cudaSetDevice(index), "cudaSetDevice(" + index + ")");
  }

  /**
   * What a failed native load was missing. JavaCPP reports the last place it looked ("no jnicudart in
   * java.library.path"); the library that could not be opened (the driver's libcuda.so.1, say) is in its causes.
   */
  static String linkFailure(LinkageError e) {
    Throwable innermost = e;
    while (innermost.getCause() != null && innermost.getCause() != innermost) {
      innermost = innermost.getCause();
    }
    return innermost == e ? e.toString() : innermost.getMessage() + "; " + e.getMessage();
  }
}
