package io.junction.server.scheduling;

import io.junction.server.backend.ExecutionTimings;
import io.junction.server.backend.LoadedModel;
import io.junction.server.backend.OutputBuffers;
import io.junction.server.errors.InferenceFailedException;
import io.junction.server.model.ServedModel;
import io.junction.server.model.ServingSignature;
import io.junction.server.model.ServingTensor;
import io.junction.server.tensor.BufferLease;
import io.junction.server.tensor.BufferPool;
import io.junction.server.tensor.DataType;
import io.junction.server.tensor.Tensor;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Runs one batch: each request's input bytes are written once into one pooled direct buffer per
 * tensor (concatenated along dimension 0), the backend reads those buffers in place, and its outputs
 * are sliced per request without another copy. Outputs of {@value #POOLED_OUTPUT_MIN_BYTES} bytes and more
 * are written by the backend, where it can, into pooled buffers too, so that they reach the response
 * without being copied out of the backend first; the outcome's lease holds them.
 */
final class BatchRunner {
  /** Below this, copying an output out of the backend costs less than handing it a buffer to write into. */
  static final int POOLED_OUTPUT_MIN_BYTES = 64 * 1024;

  /**
   * The outputs of one execution, per request in batch order, and where the time went.
   *
   * @param outputsMemory the pooled buffers the outputs are views of, held once by whoever has the outcome
   */
  record Outcome(List<List<Tensor>> outputs, ExecutionTimings timings, long rows, BufferLease outputsMemory) {}

  private final BufferPool pool;

  BatchRunner(BufferPool pool) {
    this.pool = pool;
  }

  Outcome run(ServedModel model, List<InferenceRequest> batch) {
    return run(model, model.backend(), batch);
  }

  /** Runs the batch on {@code copy}, the model's copy on the device this execution has a slot of. */
  Outcome run(ServedModel model, LoadedModel copy, List<InferenceRequest> batch) {
    ServingSignature signature = model.signature();
    long rows = 0;
    for (InferenceRequest r : batch) {
      rows += r.batchSize();
    }
    List<String> outputs = unionOfOutputs(signature, batch);
    List<ByteBuffer> borrowed = new ArrayList<>();
    PooledOutputs pooledOutputs = new PooledOutputs(signature.batched() ? rows : -1);
    ExecutionTimings timings = new ExecutionTimings();
    List<Tensor> produced;
    BufferLease outputsMemory = null;
    try {
      long start = System.nanoTime();
      Map<String, Tensor> inputs = new HashMap<>(batch.get(0).inputs().size() * 2);
      for (String name : batch.get(0).inputs().keySet()) {
        inputs.put(name, concatenate(name, batch, rows, signature.batched(), borrowed));
      }
      timings.recordInput(System.nanoTime() - start);
      produced = copy.run(inputs, outputs, timings, pooledOutputs);
      long splitStart = System.nanoTime();
      List<List<Tensor>> perRequest = split(model, batch, outputs, produced, rows, signature.batched());
      timings.recordOutput(System.nanoTime() - splitStart);
      outputsMemory = BufferLease.of(pool, pooledOutputs.taken);
      return new Outcome(perRequest, timings, rows, outputsMemory);
    } finally {
      borrowed.forEach(pool::release);
      if (outputsMemory == null) {
        pooledOutputs.taken.forEach(pool::release); // the run failed: nobody reads what it wrote
      }
    }
  }

  /** Pooled buffers for the outputs worth writing in place, all of them kept for the outcome's lease. */
  private final class PooledOutputs implements OutputBuffers {
    private final long batchRows;
    /** Made by the first buffer taken: a batch whose outputs are all small allocates no list. */
    List<ByteBuffer> taken = List.of();

    PooledOutputs(long batchRows) {
      this.batchRows = batchRows;
    }

    @Override
    public long batchRows() {
      return batchRows;
    }

    @Override
    public ByteBuffer allocate(String output, int bytes) {
      if (bytes < POOLED_OUTPUT_MIN_BYTES) {
        return null;
      }
      ByteBuffer buffer = pool.acquire(bytes);
      if (taken.isEmpty()) {
        taken = new ArrayList<>(2);
      }
      taken.add(buffer);
      return buffer;
    }
  }

  private Tensor concatenate(String name, List<InferenceRequest> batch, long rows, boolean batched,
      List<ByteBuffer> borrowed) {
    Tensor first = batch.get(0).inputs().get(name);
    if (batch.size() == 1 && (first.dataType() == DataType.BYTES || first.unsafeData().isDirect())) {
      return first; // already where the backend can read it
    }
    long[] shape = first.shape();
    if (batched) {
      shape[0] = rows;
    }
    if (first.dataType() == DataType.BYTES) {
      List<byte[]> elements = new ArrayList<>();
      batch.forEach(r -> elements.addAll(r.inputs().get(name).elements()));
      return Tensor.bytes(name, shape, elements);
    }
    long bytes = 0;
    for (InferenceRequest r : batch) {
      bytes += r.inputs().get(name).unsafeData().remaining();
    }
    if (bytes > Integer.MAX_VALUE) {
      throw new InferenceFailedException("batch input '" + name + "' would need " + bytes + " bytes");
    }
    ByteBuffer buffer = pool.acquire((int) bytes);
    borrowed.add(buffer);
    for (InferenceRequest r : batch) {
      buffer.put(r.inputs().get(name).unsafeData().duplicate());
    }
    buffer.flip();
    return Tensor.fixed(name, first.dataType(), shape, buffer);
  }

  private static List<String> unionOfOutputs(ServingSignature signature, List<InferenceRequest> batch) {
    if (batch.size() == 1) {
      return batch.get(0).outputs(); // in the order the request wants them: split hands them on as they are
    }
    Set<String> wanted = new LinkedHashSet<>();
    batch.forEach(r -> wanted.addAll(r.outputs()));
    List<String> ordered = new ArrayList<>();
    for (ServingTensor t : signature.outputs()) {
      if (wanted.contains(t.name())) {
        ordered.add(t.name());
      }
    }
    return ordered;
  }

  private static List<List<Tensor>> split(ServedModel model, List<InferenceRequest> batch, List<String> names,
      List<Tensor> produced, long rows, boolean batched) {
    if (batch.size() == 1) {
      return List.of(produced); // asked for as the request wants them (unionOfOutputs): nothing to slice or reorder
    }
    Map<String, Tensor> byName = new HashMap<>();
    for (int i = 0; i < names.size(); i++) {
      Tensor t = produced.get(i);
      if (batched && (t.rank() == 0 || t.dim(0) != rows)) {
        throw new InferenceFailedException(model.label() + ": output '" + t.name() + "' has shape "
            + Arrays.toString(t.shape()) + " for a batch of " + rows + " rows; cannot split it per request");
      }
      byName.put(names.get(i), t);
    }
    List<List<Tensor>> perRequest = new ArrayList<>(batch.size());
    long offset = 0;
    for (InferenceRequest r : batch) {
      List<Tensor> mine = new ArrayList<>(r.outputs().size());
      for (String name : r.outputs()) {
        Tensor t = byName.get(name);
        mine.add(slice(t, offset, r.batchSize(), rows));
      }
      perRequest.add(mine);
      offset += r.batchSize();
    }
    return perRequest;
  }

  private static Tensor slice(Tensor t, long offset, long count, long rows) {
    long[] shape = t.shape();
    shape[0] = count;
    if (t.dataType() == DataType.BYTES) {
      int perRow = (int) (t.elements().size() / rows);
      return Tensor.bytes(t.name(), shape, t.elements().subList((int) offset * perRow, (int) (offset + count) * perRow));
    }
    ByteBuffer all = t.unsafeData();
    int rowBytes = (int) (all.remaining() / rows);
    ByteBuffer part = all.duplicate();
    part.position(all.position() + (int) offset * rowBytes).limit(all.position() + (int) (offset + count) * rowBytes);
    return Tensor.fixed(t.name(), t.dataType(), shape, part.slice());
  }
}
