package io.junction.server.it;

import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.time.Duration;

/** Whether the server ended a raw connection, for tests that hold one open without speaking on it. */
final class ServerCloses {
  private ServerCloses() {}

  /** Whether the server closes the connection within {@code wait}: end of stream or a reset, nothing sent. */
  static boolean closedByServer(Socket s, Duration wait) throws Exception {
    s.setSoTimeout((int) wait.toMillis());
    InputStream in = s.getInputStream();
    try {
      return in.read() == -1;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (SocketException e) {
      return true; // reset by the server
    }
  }
}
