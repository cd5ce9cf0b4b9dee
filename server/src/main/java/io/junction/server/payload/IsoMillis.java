package io.junction.server.payload;

import java.time.Instant;

/**
 * Instants of millisecond precision as {@link Instant#toString()} writes them ({@code 2026-12-03T00:10:23.266Z}, or
 * without a fraction on a whole second), with the date and time of day formatted once a second rather than once a
 * record: formatting them was an eighth of the payload writer's time. One per thread: it keeps the last second.
 */
final class IsoMillis {
  private long second = Long.MIN_VALUE;
  /** The last second as Instant writes it, without the closing {@code Z}. */
  private String prefix = "";

  String format(long epochMillis) {
    long s = Math.floorDiv(epochMillis, 1000);
    int millis = (int) Math.floorMod(epochMillis, 1000);
    if (s != second) {
      String whole = Instant.ofEpochSecond(s).toString();
      prefix = whole.substring(0, whole.length() - 1);
      second = s;
    }
    if (millis == 0) {
      return prefix + 'Z';
    }
    return new StringBuilder(prefix.length() + 5).append(prefix).append('.')
        .append((char) ('0' + millis / 100)).append((char) ('0' + millis / 10 % 10)).append((char) ('0' + millis % 10))
        .append('Z').toString();
  }
}
