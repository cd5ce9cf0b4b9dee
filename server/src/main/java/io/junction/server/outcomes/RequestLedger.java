package io.junction.server.outcomes;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

/**
 * Which route variant answered each recent request, by request id, so feedback that arrives later can
 * be joined to it. Bounded twice: at most {@code capacity} ids (the oldest go first) and each for at most
 * {@code ttl}. An id that aged out is told apart from one never seen while it is still in the map.
 */
public final class RequestLedger {
  /** Where a request went. */
  public record Assignment(String route, String variant, long recordedMillis) {}

  /** What a lookup found. */
  public enum Lookup { FOUND, EXPIRED, UNKNOWN }

  private final int capacity;
  private final long ttlMillis;
  private final LongSupplier clockMillis;
  private final ReentrantLock lock = new ReentrantLock();
  /** In insertion order, so the eldest entry is the first to expire and the first to go when full. */
  private final LinkedHashMap<String, Assignment> entries;

  public RequestLedger(int capacity, Duration ttl) {
    this(capacity, ttl, System::currentTimeMillis);
  }

  RequestLedger(int capacity, Duration ttl, LongSupplier clockMillis) {
    if (capacity < 1 || ttl.isNegative() || ttl.isZero()) {
      throw new IllegalArgumentException("a ledger needs a positive capacity and ttl, got " + capacity + ", " + ttl);
    }
    this.capacity = capacity;
    this.ttlMillis = ttl.toMillis();
    this.clockMillis = clockMillis;
    this.entries = new LinkedHashMap<>(Math.min(capacity, 1 << 16), 0.75f, false) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, Assignment> eldest) {
        return size() > RequestLedger.this.capacity;
      }
    };
  }

  public void record(String requestId, String route, String variant) {
    long now = clockMillis.getAsLong();
    lock.lock();
    try {
      entries.remove(requestId); // a reused id moves to the young end
      entries.put(requestId, new Assignment(route, variant, now));
    } finally {
      lock.unlock();
    }
  }

  /** The assignment of a request id, if it is still known and young enough. */
  public Lookup find(String requestId, Assignment[] found) {
    long now = clockMillis.getAsLong();
    lock.lock();
    try {
      Assignment a = entries.get(requestId);
      if (a == null) {
        return Lookup.UNKNOWN;
      }
      if (now - a.recordedMillis() > ttlMillis) {
        entries.remove(requestId);
        return Lookup.EXPIRED;
      }
      found[0] = a;
      return Lookup.FOUND;
    } finally {
      lock.unlock();
    }
  }

  public Optional<Assignment> find(String requestId) {
    Assignment[] found = new Assignment[1];
    return find(requestId, found) == Lookup.FOUND ? Optional.of(found[0]) : Optional.empty();
  }

  public int size() {
    lock.lock();
    try {
      return entries.size();
    } finally {
      lock.unlock();
    }
  }
}
