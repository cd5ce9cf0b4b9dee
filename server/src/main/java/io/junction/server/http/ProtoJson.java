package io.junction.server.http;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import java.math.BigInteger;
import java.util.Base64;
import java.util.List;

/**
 * The JSON that Triton's REST API answers with for the protocol's messages (metadata, config,
 * statistics): the proto field names, integers as JSON numbers (protobuf's own JSON mapping writes 64-bit
 * ones as strings, which REST clients do not expect), enums by name. Like Triton (protobuf's
 * {@code always_print_primitive_fields}), every field without presence is written even at its default
 * ({@code "max_batch_size": 0}, {@code "format": "FORMAT_NONE"}, {@code "dims": []}, a count of 0): clients
 * written against Triton read them without checking ({@code config["max_batch_size"]}, Triton's
 * {@code image_client.py}), and would fail on an answer that left them out. Messages and oneof members appear
 * when set.
 */
final class ProtoJson {
  private ProtoJson() {}

  static JsonObject toJson(Message message) {
    JsonObject out = new JsonObject();
    for (FieldDescriptor f : message.getDescriptorForType().getFields()) {
      if (f.hasPresence() && !message.hasField(f)) {
        continue;
      }
      Object value = message.getField(f);
      if (f.isMapField()) {
        JsonObject map = new JsonObject();
        for (Object entry : (List<?>) value) {
          Message e = (Message) entry;
          FieldDescriptor keyField = e.getDescriptorForType().findFieldByName("key");
          FieldDescriptor valueField = e.getDescriptorForType().findFieldByName("value");
          map.add(String.valueOf(e.getField(keyField)), scalar(valueField, e.getField(valueField)));
        }
        out.add(f.getName(), map);
      } else if (f.isRepeated()) {
        JsonArray array = new JsonArray();
        ((List<?>) value).forEach(v -> array.add(scalar(f, v)));
        out.add(f.getName(), array);
      } else {
        out.add(f.getName(), scalar(f, value));
      }
    }
    return out;
  }

  private static JsonElement scalar(FieldDescriptor f, Object value) {
    return switch (f.getJavaType()) {
      case MESSAGE -> toJson((Message) value); // map fields were handled by the caller
      case ENUM -> new JsonPrimitive(((EnumValueDescriptor) value).getName());
      case BYTE_STRING -> new JsonPrimitive(Base64.getEncoder().encodeToString(((ByteString) value).toByteArray()));
      case BOOLEAN -> new JsonPrimitive((Boolean) value);
      case STRING -> new JsonPrimitive((String) value);
      case LONG -> f.getType() == FieldDescriptor.Type.UINT64 || f.getType() == FieldDescriptor.Type.FIXED64
          ? new JsonPrimitive(new BigInteger(Long.toUnsignedString((Long) value)))
          : new JsonPrimitive((Long) value);
      case INT -> f.getType() == FieldDescriptor.Type.UINT32 || f.getType() == FieldDescriptor.Type.FIXED32
          ? new JsonPrimitive(Integer.toUnsignedLong((Integer) value)) : new JsonPrimitive((Integer) value);
      default -> new JsonPrimitive((Number) value);
    };
  }
}
