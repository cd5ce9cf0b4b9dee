package io.junction.gpu;

import org.bytedeco.tensorrt.nvinfer.ILogger;
import org.slf4j.LoggerFactory;

/** TensorRT's messages in the server's log, at the matching level (its verbose chatter at DEBUG). */
final class TensorRtLogger extends ILogger {
  private static final org.slf4j.Logger log = LoggerFactory.getLogger("io.junction.gpu.TensorRT");

  @Override
  public void log(Severity severity, String message) {
    switch (severity) {
      case kINTERNAL_ERROR, kERROR -> log.error("{}", message);
      case kWARNING -> log.warn("{}", message);
      case kINFO -> log.info("{}", message);
      default -> log.debug("{}", message);
    }
  }
}
