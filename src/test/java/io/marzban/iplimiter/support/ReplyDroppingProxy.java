package io.marzban.iplimiter.support;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP proxy in front of a real Redis that can drop the server's replies from an EXEC on: the transaction still
 * reaches Redis and is applied, but the client never hears back, as when the network fails right after EXEC.
 */
public final class ReplyDroppingProxy implements AutoCloseable {

    private final ServerSocket listener;
    private final int targetPort;
    private final CopyOnWriteArrayList<Socket> sockets = new CopyOnWriteArrayList<>();
    private volatile boolean dropReplies;
    private volatile boolean dropFromNextExec;

    public ReplyDroppingProxy(int targetPort) throws IOException {
        this.targetPort = targetPort;
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::accept, "proxy-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public int port() {
        return listener.getLocalPort();
    }

    /** From the next EXEC on, Redis still gets every request but the client hears nothing back. */
    public void dropRepliesFromNextExec() {
        dropFromNextExec = true;
    }

    public void deliverReplies() {
        dropFromNextExec = false;
        dropReplies = false;
    }

    private void accept() {
        while (!listener.isClosed()) {
            try {
                Socket client = listener.accept();
                Socket server = new Socket(InetAddress.getLoopbackAddress(), targetPort);
                sockets.add(client);
                sockets.add(server);
                pump(client, server, false);
                pump(server, client, true);
            } catch (IOException e) {
                return;
            }
        }
    }

    private void pump(Socket from, Socket to, boolean replies) {
        Thread thread = new Thread(() -> {
            byte[] buffer = new byte[8192];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                int read;
                while ((read = in.read(buffer)) >= 0) {
                    if (!replies && dropFromNextExec
                            && new String(buffer, 0, read, StandardCharsets.US_ASCII).contains("EXEC\r\n")) {
                        dropReplies = true;
                    }
                    if (!(replies && dropReplies)) {
                        out.write(buffer, 0, read);
                        out.flush();
                    }
                }
            } catch (IOException e) {
                // one side went away: the other follows
            } finally {
                closeQuietly(from);
                closeQuietly(to);
            }
        }, replies ? "proxy-replies" : "proxy-requests");
        thread.setDaemon(true);
        thread.start();
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // already closed
        }
    }

    @Override
    public void close() throws IOException {
        listener.close();
        sockets.forEach(ReplyDroppingProxy::closeQuietly);
    }
}
