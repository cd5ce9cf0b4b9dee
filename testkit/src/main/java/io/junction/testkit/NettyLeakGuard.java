package io.junction.testkit;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetectorFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArraySet;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.Extension;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test class when a Netty buffer (or any other resource Netty tracks, such as a timer) was garbage-collected
 * without being released while it ran: the leak that a server holding request buffers past their call would have in
 * production, slowly exhausting pooled direct memory. Every buffer is tracked ({@code PARANOID}), and each class ends
 * with a collection and a tracked allocation, which is when Netty notices what was collected unreleased; the failure
 * carries the leaked buffer's recorded accesses. A leak found after a class may have been made by an earlier one
 * whose garbage the collector had not reached yet.
 *
 * <p>Registered for every test class of every module that tests with this kit: its jar lists the class in
 * {@code META-INF/services/Extension}, and the parent pom turns JUnit's extension
 * auto-detection on for surefire. Netty keeps its detectors in static fields
 * made when its buffer classes load, so the recording factory is installed when this class loads, before any test;
 * {@link #beforeAll} checks that the buffers' detector is the recording one, so a guard that came too late fails
 * rather than passing unseen.
 */
public final class NettyLeakGuard implements BeforeAllCallback, AfterAllCallback {
  /** Leaks reported by Netty since the last check; Netty's detectors are process-wide, and so is what they found. */
  private static final Queue<String> LEAKS = new ConcurrentLinkedQueue<>();
  /** The resource types a recording detector was made for. */
  private static final Set<Class<?>> RECORDED = new CopyOnWriteArraySet<>();

  static {
    ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
    ResourceLeakDetectorFactory.setResourceLeakDetectorFactory(new RecordingFactory());
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    allocateTracked(); // loads the buffer classes, and their detector, if nothing did yet
    if (!RECORDED.contains(ByteBuf.class)) {
      throw new IllegalStateException("Netty's buffer leak detector was made before " + NettyLeakGuard.class.getName()
          + " was loaded: leaks would only be logged; load it first (JUnit's extension auto-detection)");
    }
  }

  @Override
  public void afterAll(ExtensionContext context) throws InterruptedException {
    List<String> found = collectLeaks();
    if (!found.isEmpty()) {
      throw new AssertionError(found.size() + " Netty resource(s) garbage-collected without release() during or before "
          + context.getDisplayName() + ":\n" + String.join("\n\n", found));
    }
  }

  /** Collects garbage, lets Netty look for what was collected unreleased, and takes what it reported so far. */
  static List<String> collectLeaks() throws InterruptedException {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(20); // the reference handler queues what was collected
      allocateTracked(); // a tracked allocation is when the detector looks at that queue
    }
    List<String> found = new ArrayList<>();
    for (String leak; (leak = LEAKS.poll()) != null; ) {
      found.add(leak);
    }
    return found;
  }

  private static void allocateTracked() {
    UnpooledByteBufAllocator.DEFAULT.directBuffer(1).release(); // direct: unpooled heap buffers are not tracked
  }

  private static final class RecordingFactory extends ResourceLeakDetectorFactory {
    @Override
    public <T> ResourceLeakDetector<T> newResourceLeakDetector(Class<T> resource, int samplingInterval) {
      RECORDED.add(resource);
      return new RecordingDetector<>(resource, samplingInterval);
    }

    @Override
    @SuppressWarnings("deprecation") // the abstract form Netty still requires; maxActive is unused by Netty
    public <T> ResourceLeakDetector<T> newResourceLeakDetector(Class<T> resource, int samplingInterval,
        long maxActive) {
      return newResourceLeakDetector(resource, samplingInterval);
    }
  }

  /** Netty's detector, which also logs each leak, recording what it reports. */
  private static final class RecordingDetector<T> extends ResourceLeakDetector<T> {
    RecordingDetector(Class<T> resource, int samplingInterval) {
      super(resource, samplingInterval);
    }

    @Override
    protected boolean needReport() {
      return true; // whether or not the logging configuration shows Netty's errors
    }

    @Override
    protected void reportTracedLeak(String resourceType, String records) {
      LEAKS.add(resourceType + " leaked; its recorded accesses:" + records);
      super.reportTracedLeak(resourceType, records);
    }

    @Override
    protected void reportUntracedLeak(String resourceType) {
      LEAKS.add(resourceType + " leaked (no accesses recorded)");
      super.reportUntracedLeak(resourceType);
    }
  }
}
