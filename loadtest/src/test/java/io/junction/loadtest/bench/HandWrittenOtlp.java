package io.junction.loadtest.bench;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.WireFormat;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * An OTLP trace export request ({@code ExportTraceServiceRequest}) written straight from the SDK's span data with
 * protobuf's {@link CodedOutputStream}, for {@link SpanCostBenchmark} to compare with the SDK's own marshaler:
 * what a hand-written serialiser would save per span. Not used by the server. It covers what the probe's spans carry
 * (string, long, boolean and double attributes, a status; no trace state, links or events, which it refuses) and
 * takes the resource and scope of an export's first span for all of them; {@link SpanCostProbe} checks its bytes
 * against the SDK's before it measures.
 */
final class HandWrittenOtlp {
  private static final int LENGTH_DELIMITED = WireFormat.WIRETYPE_LENGTH_DELIMITED;
  private static final int FIXED64 = WireFormat.WIRETYPE_FIXED64;
  private static final int FIXED32 = WireFormat.WIRETYPE_FIXED32;
  /** OTLP's span flags: the context's trace flags, and whether the parent's remoteness is known (0x100) and true (0x200). */
  private static final int HAS_IS_REMOTE = 0x100;
  private static final int IS_REMOTE = 0x200;

  private final byte[] id = new byte[16];
  private final AttributeWriter attributes = new AttributeWriter();
  private byte[] span = new byte[4096];
  private byte[] spans = new byte[1 << 20];
  private int spansLength;
  private byte[] request = new byte[1 << 20];

  /** Writes the request for {@code batch}; returns its length, the bytes being the first ones of {@link #bytes()}. */
  int write(Collection<SpanData> batch) {
    if (batch.isEmpty()) {
      return 0;
    }
    spansLength = 0;
    SpanData first = null;
    for (SpanData s : batch) {
      first = first == null ? s : first;
      appendSpan(s);
    }
    try {
      return assemble(first.getResource().getAttributes(), first.getInstrumentationScopeInfo());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  byte[] bytes() {
    return request;
  }

  /** Appends field 2 of ScopeSpans (one span, length-delimited) to {@link #spans}. */
  private void appendSpan(SpanData s) {
    int length;
    while (true) {
      try {
        CodedOutputStream out = CodedOutputStream.newInstance(span);
        writeSpan(out, s);
        length = span.length - out.spaceLeft();
        break;
      } catch (CodedOutputStream.OutOfSpaceException e) {
        span = new byte[span.length * 2];
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    int needed = spansLength + 1 + CodedOutputStream.computeUInt32SizeNoTag(length) + length;
    if (needed > spans.length) {
      spans = Arrays.copyOf(spans, Math.max(needed, spans.length * 2));
    }
    CodedOutputStream out = CodedOutputStream.newInstance(spans, spansLength, spans.length - spansLength);
    try {
      out.writeTag(2, LENGTH_DELIMITED);
      out.writeUInt32NoTag(length);
      out.writeRawBytes(span, 0, length);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    spansLength = needed;
  }

  private void writeSpan(CodedOutputStream out, SpanData s) throws IOException {
    SpanContext context = s.getSpanContext();
    writeId(out, 1, context.getTraceId());
    writeId(out, 2, context.getSpanId());
    if (!context.getTraceState().isEmpty() || !s.getLinks().isEmpty() || !s.getEvents().isEmpty()) {
      throw new IllegalArgumentException("the comparison covers spans without trace state, links or events");
    }
    SpanContext parent = s.getParentSpanContext();
    if (parent.isValid()) {
      writeId(out, 4, parent.getSpanId());
    }
    out.writeString(5, s.getName());
    out.writeEnum(6, s.getKind().ordinal() + 1); // INTERNAL, SERVER, CLIENT, PRODUCER, CONSUMER = 1..5
    out.writeTag(7, FIXED64);
    out.writeFixed64NoTag(s.getStartEpochNanos());
    out.writeTag(8, FIXED64);
    out.writeFixed64NoTag(s.getEndEpochNanos());
    attributes.write(out, 9, s.getAttributes());
    int dropped = s.getTotalAttributeCount() - s.getAttributes().size();
    if (dropped > 0) {
      out.writeUInt32(10, dropped);
    }
    String message = s.getStatus().getDescription();
    int code = s.getStatus().getStatusCode().ordinal(); // UNSET, OK, ERROR = 0..2
    int statusSize = (message.isEmpty() ? 0 : CodedOutputStream.computeStringSize(2, message))
        + (code == 0 ? 0 : CodedOutputStream.computeEnumSize(3, code));
    out.writeTag(15, LENGTH_DELIMITED);
    out.writeUInt32NoTag(statusSize);
    if (!message.isEmpty()) {
      out.writeString(2, message);
    }
    if (code != 0) {
      out.writeEnum(3, code);
    }
    out.writeTag(16, FIXED32);
    out.writeFixed32NoTag(flags(context, parent.isRemote()));
  }

  private static int flags(SpanContext context, boolean remote) {
    return (context.getTraceFlags().asByte() & 0xff) | (remote ? IS_REMOTE | HAS_IS_REMOTE : HAS_IS_REMOTE);
  }

  /** A trace or span id, given in lowercase hex, as its bytes. */
  private void writeId(CodedOutputStream out, int field, String hex) throws IOException {
    int n = hex.length() / 2;
    for (int i = 0; i < n; i++) {
      id[i] = (byte) (Character.digit(hex.charAt(2 * i), 16) << 4 | Character.digit(hex.charAt(2 * i + 1), 16));
    }
    out.writeTag(field, LENGTH_DELIMITED);
    out.writeUInt32NoTag(n);
    out.writeRawBytes(id, 0, n);
  }

  /** request { resource_spans(1) { resource(1) { attributes(1) }, scope_spans(2) { scope(1), spans(2)... } } } */
  private int assemble(Attributes resource, InstrumentationScopeInfo scope) throws IOException {
    int resourceSize = attributes.size(resource);
    String version = scope.getVersion();
    int scopeSize = CodedOutputStream.computeStringSize(1, scope.getName())
        + (version == null ? 0 : CodedOutputStream.computeStringSize(2, version));
    int scopeSpansSize = 1 + CodedOutputStream.computeUInt32SizeNoTag(scopeSize) + scopeSize + spansLength;
    int resourceSpansSize = 1 + CodedOutputStream.computeUInt32SizeNoTag(resourceSize) + resourceSize
        + 1 + CodedOutputStream.computeUInt32SizeNoTag(scopeSpansSize) + scopeSpansSize;
    int total = 1 + CodedOutputStream.computeUInt32SizeNoTag(resourceSpansSize) + resourceSpansSize;
    if (total > request.length) {
      request = new byte[Math.max(total, request.length * 2)];
    }
    CodedOutputStream out = CodedOutputStream.newInstance(request, 0, total);
    out.writeTag(1, LENGTH_DELIMITED);
    out.writeUInt32NoTag(resourceSpansSize);
    out.writeTag(1, LENGTH_DELIMITED);
    out.writeUInt32NoTag(resourceSize);
    attributes.write(out, 1, resource);
    out.writeTag(2, LENGTH_DELIMITED);
    out.writeUInt32NoTag(scopeSpansSize);
    out.writeTag(1, LENGTH_DELIMITED);
    out.writeUInt32NoTag(scopeSize);
    out.writeString(1, scope.getName());
    if (version != null) {
      out.writeString(2, version);
    }
    out.writeRawBytes(spans, 0, spansLength);
    out.checkNoSpaceLeft();
    return total;
  }

  /** KeyValue { key(1), value(2): AnyValue { string(1) | bool(2) | int(3) | double(4) } }, one per attribute. */
  private static final class AttributeWriter implements BiConsumer<AttributeKey<?>, Object> {
    /**
     * The keys' UTF-8 bytes, made once: protobuf's writeString encodes a string anew on every call. Keyed by
     * identity, as the probe's keys are constants.
     */
    private final Map<AttributeKey<?>, byte[]> keys = new IdentityHashMap<>();
    private CodedOutputStream out;
    private int field;
    private int size;
    private IOException failure;

    /** The bytes that {@link #write} writes for {@code attributes} as repeated field {@code field} (tag of one byte). */
    int size(Attributes attributes) {
      out = null;
      size = 0;
      attributes.forEach(this);
      return size;
    }

    void write(CodedOutputStream out, int field, Attributes attributes) throws IOException {
      this.out = out;
      this.field = field;
      failure = null;
      attributes.forEach(this);
      this.out = null;
      if (failure != null) {
        throw failure;
      }
    }

    @Override
    public void accept(AttributeKey<?> key, Object value) {
      int valueSize = switch (key.getType()) {
        case STRING -> CodedOutputStream.computeStringSize(1, (String) value);
        case BOOLEAN -> CodedOutputStream.computeBoolSize(2, (Boolean) value);
        case LONG -> CodedOutputStream.computeInt64Size(3, (Long) value);
        case DOUBLE -> CodedOutputStream.computeDoubleSize(4, (Double) value);
        default -> throw new IllegalArgumentException("the comparison covers scalar attributes, not " + key);
      };
      byte[] name = keys.computeIfAbsent(key, k -> k.getKey().getBytes(StandardCharsets.UTF_8));
      int pairSize = CodedOutputStream.computeByteArraySize(1, name) + 1
          + CodedOutputStream.computeUInt32SizeNoTag(valueSize) + valueSize;
      if (out == null) {
        size += 1 + CodedOutputStream.computeUInt32SizeNoTag(pairSize) + pairSize;
        return;
      }
      try {
        out.writeTag(field, LENGTH_DELIMITED);
        out.writeUInt32NoTag(pairSize);
        out.writeByteArray(1, name);
        out.writeTag(2, LENGTH_DELIMITED);
        out.writeUInt32NoTag(valueSize);
        switch (key.getType()) {
          case STRING -> out.writeString(1, (String) value);
          case BOOLEAN -> out.writeBool(2, (Boolean) value);
          case LONG -> out.writeInt64(3, (Long) value);
          default -> out.writeDouble(4, (Double) value);
        }
      } catch (IOException e) {
        failure = failure == null ? e : failure;
      }
    }
  }
}
