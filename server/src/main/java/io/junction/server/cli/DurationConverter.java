package io.junction.server.cli;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Pattern;
import picocli.CommandLine;

/**
 * A duration as people write one on a command line: {@code 500ms}, {@code 5s}, {@code 2m}, {@code 1h},
 * {@code 1m30s}, or a number of seconds ({@code 1.5}). Never negative.
 */
public final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
  private static final Pattern SECONDS = Pattern.compile("\\d+(?:\\.\\d+)?");
  private static final Pattern MILLISECONDS = Pattern.compile("\\d+MS");
  /** Hours, minutes and seconds in that order, as ISO 8601's time part writes them once prefixed with PT. */
  private static final Pattern HOURS_MINUTES_SECONDS = Pattern.compile("\\d[\\d.HMS]*");

  @Override
  public Duration convert(String text) {
    return parse(text);
  }

  /** @throws CommandLine.TypeConversionException naming the text, for picocli to report with the option */
  public static Duration parse(String text) {
    String t = text.trim().toUpperCase(Locale.ROOT);
    try {
      if (SECONDS.matcher(t).matches()) {
        return Duration.ofNanos(Math.round(Double.parseDouble(t) * 1e9));
      }
      if (MILLISECONDS.matcher(t).matches()) {
        return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
      }
      if (HOURS_MINUTES_SECONDS.matcher(t).matches()) {
        return Duration.parse("PT" + t);
      }
    } catch (DateTimeParseException | ArithmeticException | NumberFormatException e) {
      // told below, as every other text that is not a duration
    }
    throw new CommandLine.TypeConversionException("'" + text + "' is not a duration such as 500ms, 5s, 2m, 1h or 1m30s");
  }
}
