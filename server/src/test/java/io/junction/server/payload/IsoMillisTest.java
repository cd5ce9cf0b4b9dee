package io.junction.server.payload;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class IsoMillisTest {
  @Test
  void writesWhatInstantWrites() {
    IsoMillis iso = new IsoMillis();
    long[] edges = {0, 1, 999, 1000, 1001, -1, -1000, -1001, 1_796_257_823_050L, 1_796_257_823_000L,
        253_402_300_799_999L, 253_402_300_800_000L};
    for (long millis : edges) {
      assertThat(iso.format(millis)).as("%d", millis).isEqualTo(Instant.ofEpochMilli(millis).toString());
    }
    SplittableRandom random = new SplittableRandom(42);
    long t = 1_796_257_823_000L;
    for (int i = 0; i < 100_000; i++) {
      t += random.nextInt(-50, 400); // mostly forward, sometimes back across a second, as arrivals are recorded
      assertThat(iso.format(t)).as("%d", t).isEqualTo(Instant.ofEpochMilli(t).toString());
    }
  }
}
