package io.junction.server.device;

import java.util.Locale;

/**
 * A device models run on: the CPU (one, however many cores) or GPU number {@code index}, as config.pbtxt's
 * {@code instance_group { gpus: [...] }} and the command line ({@code gpu:0}) name them.
 */
public record DeviceId(Kind kind, int index) implements Comparable<DeviceId> {
  public enum Kind { CPU, GPU }

  public static final DeviceId CPU = new DeviceId(Kind.CPU, 0);

  public DeviceId {
    if (kind == null) {
      throw new NullPointerException("kind");
    }
    if (index < 0 || (kind == Kind.CPU && index != 0)) {
      throw new IllegalArgumentException("no device " + kind + " " + index);
    }
  }

  public static DeviceId gpu(int index) {
    return new DeviceId(Kind.GPU, index);
  }

  /** {@code cpu} or {@code gpu:N}. */
  public static DeviceId parse(String text) {
    String t = text.trim().toLowerCase(Locale.ROOT);
    if (t.equals("cpu")) {
      return CPU;
    }
    if (t.startsWith("gpu:")) {
      try {
        return gpu(Integer.parseInt(t.substring(4)));
      } catch (IllegalArgumentException e) {
        // fall through to the message below
      }
    }
    throw new IllegalArgumentException("a device is cpu or gpu:N (N = 0, 1, ...), got '" + text + "'");
  }

  public boolean isGpu() {
    return kind == Kind.GPU;
  }

  @Override
  public int compareTo(DeviceId other) {
    return kind != other.kind ? kind.compareTo(other.kind) : Integer.compare(index, other.index);
  }

  /** {@code cpu} or {@code gpu:N}: the label of metrics, spans and messages. */
  @Override
  public String toString() {
    return kind == Kind.CPU ? "cpu" : "gpu:" + index;
  }
}
