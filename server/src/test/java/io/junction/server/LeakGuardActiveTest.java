package io.junction.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.Test;

/**
 * The test kit's leak guard runs for this module's tests, as the parent pom means it to (JUnit's extension
 * autodetection, which surefire passes on only as a configuration parameter under {@code <properties>}): every
 * buffer is tracked. Nothing in this module loads the guard by name, so without autodetection it would not run and
 * Netty would track one buffer in 128.
 */
class LeakGuardActiveTest {
  @Test
  void everyBufferIsTracked() {
    assertThat(ResourceLeakDetector.getLevel()).isEqualTo(ResourceLeakDetector.Level.PARANOID);
    ByteBuf buffer = ByteBufAllocator.DEFAULT.buffer(16);
    try {
      assertThat(buffer.getClass().getSimpleName()).startsWith("AdvancedLeakAware");
    } finally {
      buffer.release();
    }
  }
}
