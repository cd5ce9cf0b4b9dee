package io.junction.server.model;

/**
 * What a loaded model version costs in memory.
 *
 * @param fileBytes the size of its files in the repository
 * @param measuredBytes how much the process's resident memory grew while it loaded and warmed up; 0 when
 *     it could not be measured (no procfs) or did not grow (memory the allocator had kept from earlier)
 */
public record Footprint(long fileBytes, long measuredBytes) {
  public static final Footprint NONE = new Footprint(0, 0);

  /**
   * What the memory budget counts: the larger of the two. The file size is a floor (the weights are held
   * in memory), since a load that reuses memory the allocator kept from an unloaded model measures less
   * than it holds.
   */
  public long budgetBytes() {
    return Math.max(fileBytes, measuredBytes);
  }

  @Override
  public String toString() {
    return fileBytes + " bytes of files, " + (measuredBytes > 0 ? measuredBytes + " bytes resident (measured)"
        : "resident size not measured");
  }
}
