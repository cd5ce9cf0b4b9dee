package io.junction.loadtest;

import io.grpc.Status;

/** How ghz (Go's grpc) names statuses and writes errors, so our reports group and read like ghz's. */
final class GhzNames {
  private GhzNames() {}

  /** Go's {@code codes.Code.String()}: {@code NotFound}, {@code InvalidArgument}, ... */
  static String code(Status.Code code) {
    return switch (code) {
      case OK -> "OK";
      case CANCELLED -> "Canceled";
      case UNKNOWN -> "Unknown";
      case INVALID_ARGUMENT -> "InvalidArgument";
      case DEADLINE_EXCEEDED -> "DeadlineExceeded";
      case NOT_FOUND -> "NotFound";
      case ALREADY_EXISTS -> "AlreadyExists";
      case PERMISSION_DENIED -> "PermissionDenied";
      case RESOURCE_EXHAUSTED -> "ResourceExhausted";
      case FAILED_PRECONDITION -> "FailedPrecondition";
      case ABORTED -> "Aborted";
      case OUT_OF_RANGE -> "OutOfRange";
      case UNIMPLEMENTED -> "Unimplemented";
      case INTERNAL -> "Internal";
      case UNAVAILABLE -> "Unavailable";
      case DATA_LOSS -> "DataLoss";
      case UNAUTHENTICATED -> "Unauthenticated";
    };
  }

  /**
   * ghz's error text, {@code rpc error: code = NotFound desc = ...}. A deadline the client enforced reads
   * as Go's {@code context deadline exceeded}: grpc-java's own text carries the call's timings, which
   * would make every expired call a row of its own.
   */
  static String error(Status status) {
    String desc = status.getDescription() == null ? "" : status.getDescription();
    if (status.getCode() == Status.Code.DEADLINE_EXCEEDED && (desc.isEmpty() || desc.startsWith("deadline exceeded")
        || desc.startsWith("ClientCall started after"))) {
      desc = "context deadline exceeded";
    }
    return "rpc error: code = " + code(status.getCode()) + " desc = " + desc;
  }
}
