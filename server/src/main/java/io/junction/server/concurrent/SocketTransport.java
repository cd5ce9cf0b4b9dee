package io.junction.server.concurrent;

import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;

/**
 * How a Netty server's event loops wait on and move their sockets: Linux's native epoll where Netty's native library
 * loads (fewer system calls and no selector bookkeeping a call), the JDK's NIO elsewhere.
 */
public record SocketTransport(String name, IoHandlerFactory ioHandlers, Class<? extends ServerChannel> serverChannel) {
  /** The native transport where this machine offers it, NIO otherwise. */
  public static SocketTransport best() {
    return Epoll.isAvailable()
        ? new SocketTransport("epoll", EpollIoHandler.newFactory(), EpollServerSocketChannel.class)
        : new SocketTransport("nio", NioIoHandler.newFactory(), NioServerSocketChannel.class);
  }
}
