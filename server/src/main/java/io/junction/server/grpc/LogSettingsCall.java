package io.junction.server.grpc;

import static io.junction.server.grpc.Replies.reply;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.junction.proto.inference.LogSettingsRequest;
import io.junction.proto.inference.LogSettingsResponse;
import io.junction.server.errors.InvalidInputException;
import io.junction.server.logging.LogControl;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** Triton's LogSettings RPC: the request's settings handed to {@link LogControl}, its answer written back. */
final class LogSettingsCall {
  private final Optional<LogControl> logs;

  /** @param logs empty when the process does not log through logback: every call then gets UNIMPLEMENTED */
  LogSettingsCall(Optional<LogControl> logs) {
    this.logs = logs;
  }

  void handle(LogSettingsRequest request, StreamObserver<LogSettingsResponse> out) {
    if (logs.isEmpty()) {
      out.onError(Status.UNIMPLEMENTED.withDescription("this server's log is not written by logback, so its log "
          + "settings cannot be read or changed here").asRuntimeException());
      return;
    }
    reply(out, () -> response(logs.get().update(changes(request)))); // no settings named: only read
  }

  private static Map<String, Object> changes(LogSettingsRequest request) {
    Map<String, Object> changes = new LinkedHashMap<>();
    request.getSettingsMap().forEach((name, value) -> changes.put(name, switch (value.getParameterChoiceCase()) {
      case BOOL_PARAM -> value.getBoolParam();
      case UINT32_PARAM -> Integer.toUnsignedLong(value.getUint32Param());
      case STRING_PARAM -> value.getStringParam();
      case PARAMETERCHOICE_NOT_SET -> throw new InvalidInputException("log setting '" + name + "' has no value: "
          + "set bool_param, uint32_param or string_param");
    }));
    return changes;
  }

  private static LogSettingsResponse response(LogControl.Settings settings) {
    LogSettingsResponse.Builder response = LogSettingsResponse.newBuilder();
    settings.byName().forEach((name, value) -> {
      LogSettingsResponse.SettingValue.Builder v = LogSettingsResponse.SettingValue.newBuilder();
      if (value instanceof Boolean b) {
        v.setBoolParam(b);
      } else if (value instanceof Long n) {
        v.setUint32Param(n.intValue());
      } else {
        v.setStringParam(String.valueOf(value));
      }
      response.putSettings(name, v.build());
    });
    return response.build();
  }
}
