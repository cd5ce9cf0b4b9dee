package io.junction.server.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import io.junction.server.errors.InvalidInputException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.ILoggerFactory;
import org.slf4j.LoggerFactory;

/**
 * The log settings an operator may change while the server runs, named and typed as Triton's logging extension
 * names them ({@code log_info}, {@code log_warning}, {@code log_error}, {@code log_verbose_level}, {@code log_format},
 * {@code log_file}), applied to logback.
 *
 * <p>Logging is the process's, not one server's: a change applies to every logger in the JVM, and {@link #close()}
 * puts back what this control changed. {@code log_verbose_level} 1 or more is what {@code --log-verbose} 1 or more
 * is at start (the root logger at DEBUG; the transport libraries keep the WARN that logback.xml gives them), 0 the
 * root's level at start. The three switches drop events of their level wherever they are logged, with a filter
 * that is in place only while one of them is off. The format and the file are chosen at start: a request may name
 * the format in use, and no request may name a file ({@code log_file} is read-only, as in Triton).
 */
public final class LogControl implements AutoCloseable {
  public static final String FILE = "log_file";
  public static final String INFO = "log_info";
  public static final String WARNING = "log_warning";
  public static final String ERROR = "log_error";
  public static final String VERBOSE_LEVEL = "log_verbose_level";
  public static final String FORMAT = "log_format";
  /** Every setting, in the order Triton lists them. */
  public static final List<String> NAMES = List.of(FILE, INFO, WARNING, ERROR, VERBOSE_LEVEL, FORMAT);

  /** The settings' values: where the log goes ({@code ""}: standard output) and how it is written. */
  public record Settings(String file, boolean info, boolean warning, boolean error, long verboseLevel, String format) {
    /** By name, each value a Boolean, Long or String. */
    public Map<String, Object> byName() {
      Map<String, Object> values = new LinkedHashMap<>();
      values.put(FILE, file);
      values.put(INFO, info);
      values.put(WARNING, warning);
      values.put(ERROR, error);
      values.put(VERBOSE_LEVEL, verboseLevel);
      values.put(FORMAT, format);
      return values;
    }
  }

  private static final org.slf4j.Logger log = LoggerFactory.getLogger(LogControl.class);

  private final LoggerContext context;
  private final Logger root;
  private final Level rootLevelAtStart;
  private final String format;
  private final LevelSwitch levelSwitch = new LevelSwitch();
  private long verboseLevel;
  /** Whether a request changed the root's level: only then does {@link #close()} put it back. */
  private boolean rootChanged;

  LogControl(LoggerContext context) {
    this.context = context;
    this.root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    this.rootLevelAtStart = root.getLevel();
    this.format = StandardOutput.appender(root).filter(a -> a.getEncoder() instanceof JsonEncoder).isPresent()
        ? "json" : "ISO8601";
    this.verboseLevel = root.isDebugEnabled() ? 1 : 0;
    levelSwitch.setContext(context);
    levelSwitch.setName("junction-log-settings");
    levelSwitch.start();
  }

  /** The control of the process's logging; empty when SLF4J does not log through logback (an embedding's choice). */
  public static Optional<LogControl> ofThisProcess() {
    ILoggerFactory factory = LoggerFactory.getILoggerFactory();
    return factory instanceof LoggerContext context ? Optional.of(new LogControl(context)) : Optional.empty();
  }

  public synchronized Settings settings() {
    return new Settings("", levelSwitch.info, levelSwitch.warning, levelSwitch.error, verboseLevel, format);
  }

  /**
   * Changes the settings {@code changes} names, all or none, and returns every setting as it then is.
   *
   * @param changes by setting name: a Boolean for the three switches, a Long for the verbose level, a String for
   *     the format and the file
   * @throws InvalidInputException naming the setting and what was wrong, before anything changed
   */
  public synchronized Settings update(Map<String, Object> changes) {
    Settings now = settings();
    boolean info = now.info();
    boolean warning = now.warning();
    boolean error = now.error();
    long verbose = now.verboseLevel();
    for (Map.Entry<String, Object> change : changes.entrySet()) {
      String name = change.getKey();
      Object value = change.getValue();
      switch (name) {
        case INFO -> info = bool(name, value);
        case WARNING -> warning = bool(name, value);
        case ERROR -> error = bool(name, value);
        case VERBOSE_LEVEL -> verbose = level(value);
        case FORMAT -> requireFormat(value);
        case FILE -> throw new InvalidInputException("log setting 'log_file' cannot be changed by a request: Junction "
            + "logs to standard output, and no request names a file the server writes");
        default -> throw new InvalidInputException("unknown log setting '" + bounded(name) + "'; the settings are "
            + String.join(", ", NAMES));
      }
    }
    if (!changes.isEmpty()) {
      // written before the switches change, so that turning information off is itself on record
      log.info("log settings changed by a request: {}", changes);
    }
    levelSwitch.set(info, warning, error);
    if (!levelSwitch.dropsSome()) {
      context.getTurboFilterList().remove(levelSwitch); // nothing is dropped: logging pays nothing for the switch
    } else if (!context.getTurboFilterList().contains(levelSwitch)) {
      context.addTurboFilter(levelSwitch);
    }
    if (verbose != verboseLevel) {
      root.setLevel(verbose > 0 ? Level.DEBUG : levelWithoutVerbose());
      rootChanged = true;
    }
    verboseLevel = verbose;
    return settings();
  }

  /** The root's level at start, unless that was already verbose. */
  private Level levelWithoutVerbose() {
    return rootLevelAtStart == null || rootLevelAtStart.isGreaterOrEqual(Level.INFO) ? rootLevelAtStart : Level.INFO;
  }

  private static boolean bool(String name, Object value) {
    if (value instanceof Boolean b) {
      return b;
    }
    throw new InvalidInputException("log setting '" + name + "' must be true or false, got " + describe(value));
  }

  private static long level(Object value) {
    if (value instanceof Long n && n >= 0 && n <= Integer.MAX_VALUE) {
      return n;
    }
    throw new InvalidInputException("log setting 'log_verbose_level' must be a whole number from 0 to "
        + Integer.MAX_VALUE + " (0: no verbose messages), got " + describe(value));
  }

  private void requireFormat(Object value) {
    if (!format.equals(value)) {
      throw new InvalidInputException("log setting 'log_format' is chosen at start (--log-format text|json) and is '"
          + format + "'; a request may not change it, got " + describe(value));
    }
  }

  private static String describe(Object value) {
    return value instanceof String s ? "'" + bounded(s) + "'" : bounded(String.valueOf(value));
  }

  private static String bounded(String text) {
    return text.length() <= 64 ? text : text.substring(0, 64) + "...";
  }

  /** Takes the switch out and, if a request changed it, puts back the root's level. */
  @Override
  public synchronized void close() {
    context.getTurboFilterList().remove(levelSwitch);
    if (rootChanged) {
      root.setLevel(rootLevelAtStart);
    }
    levelSwitch.stop();
  }
}
