package io.junction.server.payload;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;

/**
 * Records as gzip-compressed JSON lines in a directory: {@code payload-<UTC time>-<n>.jsonl.gz}, each
 * readable with {@code zcat | jq}, pandas ({@code read_json(..., lines=True)}) or DuckDB. The file being
 * written is named {@code .jsonl.gz.open} and renamed when complete, so readers only ever see whole
 * files. A file is closed after {@code maxFileBytes} of JSON or {@code maxFileAge}; the oldest files are
 * deleted while the directory holds more than {@code maxTotalBytes}.
 */
final class JsonLinesFileSink implements PayloadSink {
  private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);
  static final String SUFFIX = ".jsonl.gz";
  static final String OPEN_SUFFIX = SUFFIX + ".open";

  private final Path dir;
  private final long maxFileBytes;
  private final long maxFileAgeMillis;
  private final long maxTotalBytes;
  private final Clock clock;
  private OutputStream out;
  private Path current;
  private long written;
  private long openedAt;
  private int sequence;
  private long flushedAt;
  static final long FLUSH_MILLIS = 1000;

  JsonLinesFileSink(Path dir, long maxFileBytes, long maxFileAgeMillis, long maxTotalBytes, Clock clock)
      throws IOException {
    this.dir = Files.createDirectories(dir);
    this.maxFileBytes = maxFileBytes;
    this.maxFileAgeMillis = maxFileAgeMillis;
    this.maxTotalBytes = maxTotalBytes;
    this.clock = clock;
    // A file left open by a process that died is as complete as gzip lets it be: keep it under its final name.
    try (Stream<Path> files = Files.list(dir)) {
      for (Path p : files.filter(f -> f.getFileName().toString().endsWith(OPEN_SUFFIX)).toList()) {
        String name = p.getFileName().toString();
        Files.move(p, p.resolveSibling(name.substring(0, name.length() - ".open".length())),
            StandardCopyOption.REPLACE_EXISTING);
      }
    }
  }

  @Override
  public String name() {
    return "file";
  }

  @Override
  public void write(PayloadRecord record, byte[] json) throws IOException {
    long now = clock.millis();
    if (out != null && (written >= maxFileBytes || now - openedAt >= maxFileAgeMillis)) {
      finish();
    }
    if (out == null) {
      open(now);
    }
    out.write(json);
    out.write('\n');
    written += json.length + 1;
  }

  /**
   * Makes what was written readable (a gzip sync point) at most every {@link #FLUSH_MILLIS}: flushing
   * after every record would cost compression and CPU at high rates.
   */
  @Override
  public void flush() throws IOException {
    long now = clock.millis();
    if (out != null && now - flushedAt >= FLUSH_MILLIS) {
      out.flush();
      flushedAt = now;
    }
  }

  /** gzip at the fastest level: these files are written all day and read now and then. */
  private static final class FastGzip extends GZIPOutputStream {
    FastGzip(OutputStream out) throws IOException {
      super(out, 64 * 1024, true);
      def.setLevel(Deflater.BEST_SPEED);
    }
  }

  private void open(long now) throws IOException {
    current = dir.resolve(String.format("payload-%s-%06d%s", STAMP.format(Instant.ofEpochMilli(now)), sequence++, OPEN_SUFFIX));
    OutputStream file = Files.newOutputStream(current);
    // Records go to the compressor in 64 KiB pieces, not one native call per record.
    out = new BufferedOutputStream(new FastGzip(file), 64 * 1024);
    written = 0;
    openedAt = now;
  }

  private void finish() throws IOException {
    out.close();
    out = null;
    String name = current.getFileName().toString();
    Files.move(current, current.resolveSibling(name.substring(0, name.length() - ".open".length())),
        StandardCopyOption.ATOMIC_MOVE);
    prune();
  }

  /** Deletes the oldest complete files while the directory holds more than the cap. */
  private void prune() throws IOException {
    List<Path> done;
    try (Stream<Path> files = Files.list(dir)) {
      done = files.filter(f -> f.getFileName().toString().endsWith(SUFFIX))
          .sorted(Comparator.comparing(f -> f.getFileName().toString())).toList();
    }
    long total = 0;
    for (Path p : done) {
      total += Files.size(p);
    }
    for (Path p : done) {
      if (total <= maxTotalBytes) {
        break;
      }
      total -= Files.size(p);
      Files.deleteIfExists(p);
    }
  }

  @Override
  public void close() throws IOException {
    if (out != null) {
      finish();
    }
  }
}
