package io.junction.gpu;

/** A CUDA runtime or NVML call that did not succeed, with the call and the library's own words. */
final class CudaException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  CudaException(String message) {
    super(message);
  }
}
