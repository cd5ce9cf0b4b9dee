package io.junction.server.payload;

import java.io.IOException;

/** Where payload records go. Called on the logger's one writer thread only. */
public interface PayloadSink extends AutoCloseable {
  /** The sink's name in metrics and logs ({@code file}, {@code otlp}, {@code cloudevents}). */
  String name();

  /** @param json the record as UTF-8 JSON ({@link PayloadRecord#writeJson}), made once for all sinks; not to be changed */
  void write(PayloadRecord record, byte[] json) throws IOException;

  /** Called when the queue is empty, so buffered records reach their destination without waiting for more. */
  default void flush() throws IOException {}

  @Override
  void close() throws IOException;
}
