package io.junction.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import org.junit.jupiter.api.Test;

class NettyLeakGuardTest {
  @Test
  void aBufferCollectedWithoutReleaseIsReportedWithItsAccesses() throws Exception {
    NettyLeakGuard.collectLeaks(); // whatever earlier code left behind is not this test's
    leakOne();
    assertThat(NettyLeakGuard.collectLeaks()).singleElement().asString()
        .contains("ByteBuf leaked", "leakOne");
    assertThat(NettyLeakGuard.collectLeaks()).as("each leak is reported once").isEmpty();
  }

  @Test
  void releasedBuffersAreNoLeak() throws Exception {
    NettyLeakGuard.collectLeaks();
    for (int i = 0; i < 100; i++) {
      ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(64);
      buf.writeLong(i);
      buf.release();
    }
    assertThat(NettyLeakGuard.collectLeaks()).isEmpty();
  }

  private static void leakOne() {
    ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(64);
    buf.writeInt(42); // an access, recorded with its stack
  }
}
