package io.junction.server.device;

import static org.assertj.core.api.Assertions.assertThat;

import io.junction.server.scheduling.DeviceRegistry;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Device discoveries found through ServiceLoader; one whose native side is missing costs a log line. */
class DeviceDiscoveryTest {
  /** Like a CUDA discovery on a machine without the driver: its native library does not link. */
  public static final class NoDriver implements DeviceDiscovery {
    @Override
    public String name() {
      return "no-driver";
    }

    @Override
    public List<Device> discover() {
      throw new UnsatisfiedLinkError("libcudart.so.13: cannot open shared object file");
    }
  }

  public static final class TwoGpus implements DeviceDiscovery {
    @Override
    public String name() {
      return "two-gpus";
    }

    @Override
    public List<Device> discover() {
      return List.of(new Device(DeviceId.gpu(0), "G0", 1L << 30), new Device(DeviceId.gpu(1), "G1", 1L << 30));
    }
  }

  @TempDir Path dir;

  @Test
  void aDiscoveryThatCannotLinkIsSkippedAndTheOthersCount() throws Exception {
    Path services = dir.resolve("META-INF/services");
    Files.createDirectories(services);
    Files.writeString(services.resolve(DeviceDiscovery.class.getName()),
        NoDriver.class.getName() + "\n" + TwoGpus.class.getName() + "\n");
    try (URLClassLoader loader = new URLClassLoader(new URL[] {dir.toUri().toURL()}, getClass().getClassLoader())) {
      List<Device> found = DeviceRegistry.discover(loader, new PrometheusRegistry());
      assertThat(found).extracting(Device::id).containsExactly(DeviceId.gpu(0), DeviceId.gpu(1));
      try (DeviceRegistry registry = new DeviceRegistry(found, 2, 3, new PrometheusRegistry())) {
        assertThat(registry.ids()).containsExactly(DeviceId.CPU, DeviceId.gpu(0), DeviceId.gpu(1));
        assertThat(registry.scheduler(DeviceId.gpu(1)).slots()).isEqualTo(3);
        assertThat(registry.scheduler(DeviceId.CPU).slots()).isEqualTo(2);
      }
    }
  }

  @Test
  void withoutDiscoveriesOnlyTheCpuIsThere() {
    assertThat(DeviceRegistry.discover(getClass().getClassLoader(), new PrometheusRegistry())).isEmpty();
  }
}
