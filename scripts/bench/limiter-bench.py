#!/usr/bin/env python3
"""Throughput of the central limiter: how fast it takes the agents' events from the queue, at what CPU cost.

Starts a private redis-server and a stand-in Marzban API on loopback, then the limiter (LIMITER_ACTION=report),
feeds the queue with agent-shaped events and measures:

  burst   N events (default 1,000,000) waiting in the queue when the limiter starts: events/s from its first
          event until the queue is empty, and CPU-seconds per million events of the limiter and of Redis (which
          runs the consuming script)
  steady  R events/s (default 20,000) for S seconds: the longest the queue got, how long it took to drain after
          the last push, CPU % of one core and CPU-seconds per million events
  users   U active users (default 100,000), each connected from A addresses (default 2, IP_LIMIT=A so nobody is
          over): the time of each check of all of them (the limiter's marzban_limiter_check_seconds) and its Redis
          round trips (marzban_limiter_check_round_trips); --delay-ms D puts a proxy between the limiter and Redis
          that delays every request by D ms, as a Redis on another host would

Afterwards it checks the counting state: every (user, address) pair pushed is in the user's seen set (in one of its slots), and the
users index holds every user (nothing lost; a replay could only leave counts as they are).

Runs the limiter through bin/marzban-ip-limiter-node (which builds the jar when it is missing), from any
directory; LIMITER_LAUNCHER, when set, is the launcher of another checkout to measure instead (an older jar). Python 3 standard library only; needs redis-server.
    python3 scripts/bench/limiter-bench.py burst --events 1000000
    python3 scripts/bench/limiter-bench.py steady --rate 20000 --seconds 60
    python3 scripts/bench/limiter-bench.py users --users 100000 --addresses 2 --delay-ms 2
"""
import argparse
import http.server
import json
import os
import random
import shutil
import sys
import tempfile
import socket
import threading
import time
import urllib.request

from benchlib.processes import Session, status_kib
from benchlib.redis import RedisServer, free_port
from benchlib.repo import QUEUE, launcher_or_exit

# every limiter key is {<QUEUE_KEY>}:limiter:... (LimiterKeys, KeySpace)
KEY_PREFIX = "{%s}:limiter:" % QUEUE


class Marzban(http.server.BaseHTTPRequestHandler):
    """Answers what the limiter asks in report mode: a token, the admin, any user as active."""

    def log_message(self, *args):
        pass

    def reply(self, body):
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.reply({"access_token": "bench-token", "token_type": "bearer"})

    def do_GET(self):
        if self.path == "/openapi.json":
            self.reply({"info": {"title": "MarzbanAPI", "version": "0.8.4"}})
        elif self.path.startswith("/api/user/"):
            self.reply({"username": self.path.rsplit("/", 1)[1], "status": "active", "expire": None,
                        "data_limit": None, "used_traffic": 0, "on_hold_expire_duration": None,
                        "on_hold_timeout": None})
        else:
            self.reply({"username": "admin", "is_sudo": True})

    do_PUT = do_GET


class Events:
    """Agent-shaped events: USERS users, each seen from one to three of its own addresses, stamped now."""

    USERS = 5000

    def __init__(self, seed):
        self.random = random.Random(seed)
        self.addresses = {}
        self.pairs = set()

    def one(self, node):
        user = self.random.randrange(self.USERS)
        choices = self.addresses.setdefault(user, ["10.%d.%d.%d" % (user >> 8 & 255, user & 255, i + 1)
                                                   for i in range(1 + user % 3)])
        address = self.random.choice(choices)
        self.pairs.add((user, address))
        now = time.time()
        email = "%d.user%d" % (user, user)
        line = ("%s from %s:%d accepted tcp:www.example.com:443 [VLESS TCP REALITY >> DIRECT] email: %s"
                % (time.strftime("%Y/%m/%d %H:%M:%S", time.gmtime(now)), address, 40000 + user % 20000, email))
        return ('{"timestamp":%.6f,"node_id":"node-%d","node_name":"Node %d","email":"%s","client_ip":"%s",'
                '"raw_line":"%s","processed_at":%.6f,"username":"user%d","inbound":"VLESS TCP REALITY",'
                '"outbound":"DIRECT","forwarded":false,"network":"tcp"}'
                % (now, node, node, email, address, line, now, user)).encode()

    def batch(self, size):
        node = self.random.randrange(4)
        return [self.one(node) for _ in range(size)]


def rss_mib(session):
    return status_kib(session.pid, "VmRSS") / 1024


def start_limiter(launcher, redis_url, marzban_port, work, **settings):
    env = dict(os.environ, CENTRAL_REDIS_URL=redis_url, MARZBAN_URL="http://127.0.0.1:%d" % marzban_port,
               MARZBAN_USERNAME="admin", MARZBAN_PASSWORD="bench", LIMITER_ACTION="report",
               MANAGEMENT_PORT=str(free_port()), LOG_LEVEL="WARN", CHECK_INTERVAL="10")
    env.update(settings)
    # the launcher execs java with -Dmarzban.launcher=...bin/marzban-ip-limiter-node
    return Session("limiter", [launcher, "limiter"], os.path.join(work, "limiter.out"), ["marzban-ip-limiter-node"],
                   env=env)


class DelayingProxy:
    """Loopback TCP proxy to Redis that holds every chunk sent to Redis for delay seconds: a round trip's latency."""

    def __init__(self, target_port, delay):
        self.target_port = target_port
        self.delay = delay
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            client, _ = self.listener.accept()
            server = socket.create_connection(("127.0.0.1", self.target_port))
            for sock in (client, server):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.delayed(client, server)
            threading.Thread(target=self.copy, args=(server, client), daemon=True).start()

    def delayed(self, source, target):
        """A reader stamps each chunk, a writer sends it once its time has come: chunks are delayed, not queued."""
        chunks = []
        ready = threading.Condition()

        def read():
            while True:
                data = self.receive(source)
                with ready:
                    chunks.append((time.monotonic() + self.delay, data))
                    ready.notify()
                if not data:
                    return

        def write():
            while True:
                with ready:
                    while not chunks:
                        ready.wait()
                    due, data = chunks.pop(0)
                pause = due - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                if not self.forward(data, target):
                    return

        threading.Thread(target=read, daemon=True).start()
        threading.Thread(target=write, daemon=True).start()

    def copy(self, source, target):
        while self.forward(self.receive(source), target):
            pass

    @staticmethod
    def receive(source):
        """The next chunk; empty at the end, or once the other side is gone (the limiter stopped)."""
        try:
            return source.recv(1 << 16)
        except OSError:
            return b""

    @staticmethod
    def forward(data, target):
        """Sends a chunk on, or the end when it is empty; False once nothing more can be sent."""
        try:
            if not data:
                target.shutdown(socket.SHUT_WR)
                return False
            target.sendall(data)
            return True
        except OSError:
            return False


def meters(port):
    """The limiter's Prometheus meters without labels, by name."""
    text = urllib.request.urlopen("http://127.0.0.1:%d/observe/metrics" % port, timeout=30).read().decode()
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#") and "{" not in line.split(" ", 1)[0]:
            name, value = line.split(" ", 1)
            values[name] = float(value.split(" ")[0])
    return values


def user_events(users, addresses):
    """User i connected from `addresses` addresses of its own, one event each, stamped now."""
    now = time.time()
    for user in range(users):
        for a in range(addresses):
            address = "10.%d.%d.%d" % (user >> 16 & 255, user >> 8 & 255, user & 255) if a == 0 \
                else "172.%d.%d.%d" % (16 + a, user >> 8 & 255, user & 255) if user < 65536 \
                else "100.%d.%d.%d" % (64 + a, user >> 8 & 255, user & 255)
            yield ('{"timestamp":%.6f,"node_id":"node-1","node_name":"Node 1","email":"%d.user%d","client_ip":"%s",'
                   '"raw_line":"","processed_at":%.6f,"username":"user%d","inbound":"VLESS TCP REALITY",'
                   '"outbound":"DIRECT","forwarded":false,"network":"tcp"}'
                   % (now, user, user, address, now, user)).encode()


def users_check(redis, server, launcher, marzban_port, work, args):
    """Fills the counting state through the limiter's own consume, then times its checks of all users."""
    batch = []
    for event in user_events(args.users, args.addresses):
        batch.append(event)
        if len(batch) == 1000:
            redis.call("LPUSH", QUEUE, *batch)
            batch = []
    if batch:
        redis.call("LPUSH", QUEUE, *batch)
    redis_url = server.url
    if args.delay_ms:
        proxy = DelayingProxy(server.port, args.delay_ms / 1000.0)
        redis_url = "redis://127.0.0.1:%d" % proxy.port
    port = free_port()
    # a long window and gap: every user stays active for the whole run
    limiter = start_limiter(launcher, redis_url, marzban_port, work, MANAGEMENT_PORT=str(port), CHECK_INTERVAL="1",
                            IP_LIMIT=str(args.addresses), SESSION_GAP="600")
    try:
        while redis.call("LLEN", QUEUE) > 0:
            time.sleep(0.2)
        deadline = time.time() + 600
        while True:
            try:
                if meters(port).get("marzban_limiter_users_tracked", 0) >= args.users:
                    break
            except OSError:
                pass
            if time.time() > deadline:
                raise RuntimeError("the limiter did not track every user within 600 s")
            time.sleep(0.5)
        last = meters(port)
        cpu, redis_cpu, own_cpu = limiter.cpu_seconds(), server.cpu_seconds(), time.process_time()
        times = []
        while len(times) < args.checks:
            time.sleep(0.2)
            now = meters(port)
            if now["marzban_limiter_check_seconds_count"] > last["marzban_limiter_check_seconds_count"]:
                took = ((now["marzban_limiter_check_seconds_sum"] - last["marzban_limiter_check_seconds_sum"])
                        / (now["marzban_limiter_check_seconds_count"] - last["marzban_limiter_check_seconds_count"]))
                times.append(took)
                # CHECK_INTERVAL apart, with nothing else to do: the CPU between two looks is the checks'
                checks = now["marzban_limiter_check_seconds_count"] - last["marzban_limiter_check_seconds_count"]
                print("users: check of %d users (%d addresses each, +%g ms a round trip): %.2f s, %d round trips; "
                      "per check %.2f CPU-s in the limiter, %.2f in Redis, %.2f in this bench (its proxy)"
                      % (now["marzban_limiter_users_tracked"], args.addresses, args.delay_ms, took,
                         now["marzban_limiter_check_round_trips"], (limiter.cpu_seconds() - cpu) / checks,
                         (server.cpu_seconds() - redis_cpu) / checks, (time.process_time() - own_cpu) / checks))
                last = now
                cpu, redis_cpu, own_cpu = limiter.cpu_seconds(), server.cpu_seconds(), time.process_time()
        print("users: %d users, median check %.2f s" % (args.users, sorted(times)[len(times) // 2]))
    finally:
        limiter.stop(grace=15)


def wait_consuming(redis, events, deadline=60):
    """Pushes one canary event and waits until the limiter has taken it: the limiter is ready."""
    redis.call("LPUSH", QUEUE, *events.batch(1))
    start = time.time()
    while redis.call("LLEN", QUEUE) > 0:
        if time.time() - start > deadline:
            raise RuntimeError("the limiter did not take an event within %d s" % deadline)
        time.sleep(0.05)
    return time.time() - start


def check_state(redis, events):
    missing = 0
    by_user = {}
    for user, address in events.pairs:
        by_user.setdefault(user, set()).add(address)
    for user, addresses in by_user.items():
        # entries are "<address>@<10 s slot>@<node name>" (src/main/resources/limiter/consume.lua)
        seen = {member.decode().split("@", 1)[0]
                for member in redis.call("ZRANGE", KEY_PREFIX + "seen:user%d" % user, 0, -1)}
        missing += len(addresses - seen)
    indexed = redis.call("ZCARD", KEY_PREFIX + "users")
    return missing, len(by_user), indexed


def push(redis, events, count):
    pushed = 0
    while pushed < count:
        chunk = min(100, count - pushed)
        commands = []
        for _ in range(10):
            if pushed >= count:
                break
            size = min(chunk, count - pushed)
            commands.append(("LPUSH", QUEUE, *events.batch(size)))
            pushed += size
        redis.pipeline(commands)


def burst(redis, server, limiter, count):
    """The queue holds count events; the limiter has just been started: time it from its first event."""
    while redis.call("LLEN", QUEUE) == count:
        time.sleep(0.005)
    start = time.time()
    cpu0, redis_cpu0 = limiter.cpu_seconds(), server.cpu_seconds()
    while redis.call("LLEN", QUEUE) > 0:
        time.sleep(0.02)
    end = time.time()
    cpu, redis_cpu = limiter.cpu_seconds() - cpu0, server.cpu_seconds() - redis_cpu0
    print("burst: %d events taken in %.2f s = %.0f events/s; limiter %.2f CPU-s (%.2f per million events), "
          "Redis %.2f CPU-s (%.2f per million), limiter RSS %.0f MiB"
          % (count, end - start, count / (end - start), cpu, cpu * 1e6 / count, redis_cpu,
             redis_cpu * 1e6 / count, rss_mib(limiter)))


def steady(redis, events, server, limiter, rate, seconds):
    cpu0, redis_cpu0 = limiter.cpu_seconds(), server.cpu_seconds()
    start = time.time()
    per_tick = max(1, rate // 100)  # a push every 10 ms
    pushed = 0
    longest = 0
    tick = 0
    while time.time() - start < seconds:
        tick += 1
        redis.call("LPUSH", QUEUE, *events.batch(per_tick))
        pushed += per_tick
        if tick % 10 == 0:
            longest = max(longest, redis.call("LLEN", QUEUE))
        pause = start + tick * 0.01 - time.time()
        if pause > 0:
            time.sleep(pause)
    pushed_for = time.time() - start
    left = redis.call("LLEN", QUEUE)
    while redis.call("LLEN", QUEUE) > 0:
        time.sleep(0.02)
    drained = time.time() - start - pushed_for
    cpu, redis_cpu = limiter.cpu_seconds() - cpu0, server.cpu_seconds() - redis_cpu0
    print("steady: %d events in %.1f s (%.0f/s); queue at most %d long, %d at the end, empty %.2f s later"
          % (pushed, pushed_for, pushed / pushed_for, longest, left, drained))
    print("steady: limiter %.1f %% of a core (%.2f CPU-s per million events), Redis %.1f %% (%.2f per million), "
          "limiter RSS %.0f MiB" % (cpu * 100 / (pushed_for + drained), cpu * 1e6 / pushed,
                                   redis_cpu * 100 / (pushed_for + drained), redis_cpu * 1e6 / pushed, rss_mib(limiter)))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["burst", "steady", "users"], nargs="?", default="burst")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--rate", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--addresses", type=int, default=2)
    parser.add_argument("--checks", type=int, default=3)
    parser.add_argument("--delay-ms", type=float, default=0)
    args = parser.parse_args()
    if not shutil.which("redis-server"):
        sys.exit("limiter-bench: needs redis-server (apt-get install -y redis-server)")
    launcher = os.environ.get("LIMITER_LAUNCHER") or launcher_or_exit("limiter-bench")

    work = tempfile.mkdtemp(prefix="limiter-bench-")
    server = RedisServer(os.path.join(work, "redis"))
    marzban = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Marzban)
    threading.Thread(target=marzban.serve_forever, daemon=True).start()
    limiter = None
    try:
        redis = server.client()
        events = Events(args.seed)
        if args.mode == "users":
            users_check(redis, server, launcher, marzban.server_address[1], work, args)
            return 0
        if args.mode == "burst":
            push(redis, events, args.events)
            limiter = start_limiter(launcher, server.url, marzban.server_address[1], work)
            burst(redis, server, limiter, args.events)
        else:
            limiter = start_limiter(launcher, server.url, marzban.server_address[1], work)
            ready = wait_consuming(redis, events)
            print("limiter took its first event %.2f s after start (pid %d)" % (ready, limiter.pid))
            steady(redis, events, server, limiter, args.rate, args.seconds)
        missing, users, indexed = check_state(redis, events)
        print("state: %d users, %d in the users index, %d (user, address) pairs missing"
              % (users, indexed, missing))
        return 0 if missing == 0 and indexed >= users else 1
    finally:
        if limiter is not None:
            limiter.stop(grace=15)
        server.stop()
        marzban.shutdown()
        shutil.rmtree(work, ignore_errors=True)

if __name__ == "__main__":
    sys.exit(main())
