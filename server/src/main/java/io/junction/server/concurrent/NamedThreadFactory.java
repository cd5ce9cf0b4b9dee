package io.junction.server.concurrent;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;

/** Threads named {@code <prefix>-<n>}, so every thread in a dump says what it is for. */
public final class NamedThreadFactory implements ThreadFactory {
  private final String prefix;
  private final boolean daemon;
  private final BiFunction<Runnable, String, Thread> kind;
  private final AtomicInteger next = new AtomicInteger();

  public NamedThreadFactory(String prefix, boolean daemon) {
    this(prefix, daemon, Thread::new);
  }

  /** @param kind makes a thread of a task and its name: a subclass that code can recognise its threads by */
  public NamedThreadFactory(String prefix, boolean daemon, BiFunction<Runnable, String, Thread> kind) {
    this.prefix = prefix;
    this.daemon = daemon;
    this.kind = kind;
  }

  @Override
  public Thread newThread(Runnable task) {
    Thread t = kind.apply(task, prefix + "-" + next.incrementAndGet());
    t.setDaemon(daemon);
    return t;
  }
}
