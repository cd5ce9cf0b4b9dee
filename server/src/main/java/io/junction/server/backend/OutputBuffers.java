package io.junction.server.backend;

import java.nio.ByteBuffer;

/**
 * Memory a backend may write a run's outputs into, so that they reach the response without being copied
 * out of the backend's own memory first. The caller owns the buffers: tensors over them stay valid until
 * the caller gives them back, after the answers have been written.
 */
public interface OutputBuffers {
  /** No buffers: the backend allocates its outputs as it likes. */
  OutputBuffers NONE = new OutputBuffers() {
    @Override
    public long batchRows() {
      return -1;
    }

    @Override
    public ByteBuffer allocate(String output, int bytes) {
      return null;
    }
  };

  /**
   * Rows along dimension 0 of every input and output of this run when the model is batched, which is what
   * a dynamic first dimension of an output will be; -1 when the model is not batched.
   */
  long batchRows();

  /**
   * A direct, little-endian buffer of exactly {@code bytes} remaining for output {@code output}, or null
   * when the caller would rather the backend allocated it (outputs too small to be worth it).
   */
  ByteBuffer allocate(String output, int bytes);
}
