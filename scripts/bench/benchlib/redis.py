"""A private redis-server on loopback and a small RESP2 client for it."""
import os
import re
import shutil
import socket
import time

from benchlib.processes import Session, last_lines


class RedisError(Exception):
    pass


def free_port():
    """A loopback port nothing listens on now (bound to port 0, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def encode(args):
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


class Resp:
    """One connection; bulk replies come back as bytes, errors as RedisError."""

    def __init__(self, port, timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.reader = self.sock.makefile("rb", buffering=1 << 16)

    def _reply(self):
        line = self.reader.readline()
        if not line:
            raise RedisError("connection closed")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode()
        if kind == b":":
            return int(rest)
        if kind == b"$":
            size = int(rest)
            return None if size < 0 else self.reader.read(size + 2)[:-2]
        if kind == b"*":
            size = int(rest)
            return None if size < 0 else [self._reply() for _ in range(size)]
        raise RedisError(rest.decode(errors="replace") if kind == b"-" else "unexpected reply %r" % line)

    def pipeline(self, commands):
        self.sock.sendall(b"".join(encode(command) for command in commands))
        return [self._reply() for _ in commands]

    def call(self, *args):
        return self.pipeline([args])[0]

    def close(self):
        self.sock.close()


class RedisServer:
    """redis-server on a free loopback port, data in directory; durable: every write fsynced to an AOF."""

    def __init__(self, directory, durable=False):
        self.directory = directory
        self.port = free_port()
        self.url = "redis://127.0.0.1:%d/0" % self.port
        self.durable = durable
        self.session = None
        self.start()

    def start(self):
        os.makedirs(self.directory, exist_ok=True)
        persistence = ["--appendonly", "yes", "--appendfsync", "always"] if self.durable else ["--appendonly", "no"]
        self.session = Session("redis-server",
                               [shutil.which("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1",
                                "--save", "", "--dir", self.directory, "--daemonize", "no", *persistence],
                               os.path.join(self.directory, "redis.log"), ["redis-server"])
        deadline = time.time() + 10
        while True:
            try:
                client = Resp(self.port)
                info = client.call("INFO", "server")
                break
            except (OSError, RedisError):
                if time.time() > deadline or not self.session.alive():
                    raise RedisError("redis-server did not start:\n" + last_lines(self.session.log_path))
                time.sleep(0.05)
        client.close()
        found = re.search(rb"process_id:(\d+)", info)
        if not found or int(found.group(1)) != self.session.pid:
            self.session.stop()
            raise RedisError("127.0.0.1:%d is answered by another process, not our redis-server" % self.port)

    def client(self):
        return Resp(self.port)

    def cpu_seconds(self):
        return self.session.cpu_seconds([self.session.pid])

    def stop(self):
        self.session.stop()
