#!/usr/bin/env python3
"""Accuracy of the limiter's verdicts: who is reported, who is not, and how soon, against a known truth.

A seeded simulator makes one trace of connections: each scenario is one user whose truth is known (honest: never
more devices in use at once than the limit; sharing: more, from a known moment). The trace is fed, as the agents
would push it (agent-shaped events, a second or two after each connection; a node that was down pushes its backlog
at once), into a private redis-server and the real limiter in report mode, whose clock the script moves in steps of
CHECK_INTERVAL: eight simulated minutes take seconds. A local webhook receiver records the limiter's verdicts.

The same trace also goes through the rules of three other limiters, written from their documentation (their READMEs,
not their code; docs/ACCURACY.md says what each rule is taken to be).

It prints one table: per scenario the truth, and per rule whether and when the user was reported (for a sharer: after
how long from the start of the sharing); then the false reports and the median and longest time to catch.

Runs from the repository root; builds the jar and the test classes first if they are missing. Python 3 standard
library only.
    python3 scripts/bench/verdict-bench.py
    python3 scripts/bench/verdict-bench.py --seed 7 --set SESSION_LINGER=60 --set VIOLATION_GRACE=90
"""
import argparse
import http.server
import ipaddress
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib.redis import RedisServer, free_port  # noqa: E402  (after the path above)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
JAR = os.path.join(ROOT, "target", "marzban-ip-limiter-node.jar")
TEST_CLASSES = os.path.join(ROOT, "target", "test-classes")
BENCH_MAIN = "io.marzban.iplimiter.bench.SimulatedTimeLimiter"
QUEUE = "node_logs_queue"
KEY_PREFIX = "{node_logs_queue}:limiter:"
T0 = 1_800_000_000  # the trace's epoch: fixed, so that every run is the same
LENGTH = 780  # seconds of trace
LIMIT = 2
DEFAULTS = {"IP_LIMIT": str(LIMIT), "SESSION_GAP": "300", "SESSION_LINGER": "30", "VIOLATION_GRACE": "60",
            "IPV4_PREFIX": "32", "IPV6_PREFIX": "64"}
STEP = 10  # simulated seconds between checks: CHECK_INTERVAL's default


def stop(process):
    """SIGTERM to the limiter's process group, SIGKILL after 15 s."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


# ---------------------------------------------------------------------------------------------------------------
# The trace


class Trace:
    """Connections (time, node, address) of one user, and when each reaches the queue."""

    def __init__(self, rng):
        self.rng = rng
        self.connections = []
        self.down = {}  # node -> (from, to): the node's agent is away and pushes its backlog at `to`

    def use(self, address, start, end, node="node-a", mean=15.0):
        """A device in use on `address` from `start` to `end`: connections about every `mean` seconds, now and
        then a quiet spell of one to three minutes (a video, a call) during which it opens none."""
        at = start + self.rng.uniform(0, 3)
        while at <= end:
            self.connections.append((at, node, address))
            gap = self.rng.expovariate(1 / mean)
            if self.rng.random() < 0.03:
                gap = self.rng.uniform(60, 180)
            at += gap
        return self

    def use_any(self, addresses, start, end, node="node-a", mean=15.0):
        """One device whose connections come from any of `addresses` (dual stack, a carrier's NAT pool)."""
        before = len(self.connections)
        self.use(addresses[0], start, end, node, mean)
        self.connections[before:] = [(at, n, self.rng.choice(addresses)) for at, n, _ in self.connections[before:]]
        return self

    def delivered(self, at, node):
        delay = self.rng.uniform(0.2, 2.0)
        away = self.down.get(node)
        if away and away[0] <= at < away[1]:
            return away[1] + delay
        return at + delay


class Scenario:
    def __init__(self, name, truth, build, sharing=None, must=False):
        self.name, self.truth, self.build, self.sharing, self.must = name, truth, build, sharing, must

    @property
    def honest(self):
        return self.sharing is None


def commuter(t):
    # the laptop at home all along; the phone home Wi-Fi -> LTE at 60 s -> office Wi-Fi at 180 s
    t.use("198.51.100.10", 0, 480).use("198.51.100.10", 0, 60).use("203.0.113.40", 60, 180, "node-b")
    t.use("192.0.2.70", 180, 480, "node-b")


def mover(t):
    for i in range(6):  # a new address every 90 s; a tablet on one address
        t.use("203.0.%d.%d" % (113 - i % 2, 10 + i), i * 90, i * 90 + 88, "node-b")
    t.use("198.51.100.11", 0, 480)


def turns(t):
    t.use("198.51.100.12", 0, 150).use("203.0.113.12", 160, 310, "node-b").use("192.0.2.12", 320, 480)


def privacy_rotation(t):
    for i in range(24):  # a new IPv6 address within one /64 every 20 s, and a laptop
        t.use("2001:db8:5:7:%x:%x::1" % (i + 1, 7 * i + 3), i * 20, i * 20 + 19, "node-b", mean=6)
    t.use("198.51.100.13", 0, 480)


def dual_stack(t):
    t.use_any(["198.51.100.14", "2001:db8:9:1::14"], 0, 480, mean=8).use("192.0.2.14", 0, 480, "node-b")


def cgnat(t):
    t.use_any(["100.64.20.%d" % n for n in (7, 61, 200)], 0, 480, mean=8)


def household(t):
    for _ in range(4):
        t.use("198.51.100.15", 0, 480)


def catch_up(t):
    # the phone at home on node-a; the tablet on node-c, LTE then another cell at 300 s, while node-c's agent is
    # down from 100 to 700 s and then pushes its ten minutes of lines at once
    t.down["node-c"] = (100, 700)
    t.use("198.51.100.16", 0, 760).use("203.0.113.16", 0, 300, "node-c").use("203.0.113.116", 300, 760, "node-c")


def sharers(extra, nodes, start, end, same_block=False):
    def build(t):
        t.use("198.51.100.%d" % (20 + extra), 0, 600, nodes[0]).use("192.0.2.%d" % (20 + extra), 0, 600, nodes[1 % len(nodes)])
        for i in range(extra):
            address = "203.0.113.%d" % (30 + 40 * i) if same_block else "100.%d.7.%d" % (70 + i, 9 + i)
            t.use(address, start, end, nodes[(2 + i) % len(nodes)])
    return build


def evader(t):
    for device in range(3):  # all three in use, each on a new address every 60 s
        for i in range(8):
            t.use("100.%d.%d.%d" % (80 + device, i, 9), 60 + i * 60, 60 + i * 60 + 59, "node-" + "abc"[device])


SCENARIOS = [
    Scenario("commuter: laptop at home, phone Wi-Fi → LTE → office", "honest, 2 at once", commuter, must=True),
    Scenario("mover: new address every 90 s, and a tablet", "honest, 2 at once", mover, must=True),
    Scenario("three people taking turns (0–150, 160–310, 320–480 s)", "honest, 1 at once", turns, must=True),
    Scenario("IPv6 privacy address every 20 s in one /64, and a laptop", "honest, 2 at once", privacy_rotation,
             must=True),
    Scenario("dual-stack phone alternating IPv4/IPv6, and a laptop", "honest, 2 at once", dual_stack),
    Scenario("phone behind mobile CGNAT: 3 addresses of one /24", "honest, 1 at once", cgnat),
    Scenario("household: 4 devices behind one address", "honest, 1 address", household),
    Scenario("node down 10 min, then its backlog at once; tablet moves", "honest, 2 at once", catch_up),
    Scenario("sharing: 3 devices, one node, 60–480 s", "sharing, 3 at once", sharers(1, ["node-a"], 60, 480),
             sharing=60),
    Scenario("sharing: 3 devices across 3 nodes, 60–480 s", "sharing, 3 at once",
             sharers(1, ["node-a", "node-b", "node-c"], 60, 480), sharing=60),
    Scenario("sharing: 4 devices across nodes, 60–420 s", "sharing, 4 at once",
             sharers(2, ["node-a", "node-b"], 60, 420), sharing=60),
    Scenario("short burst: a 3rd device for 2.5 min (120–270 s)", "sharing, 3 at once",
             sharers(1, ["node-a", "node-b"], 120, 270), sharing=120),
    Scenario("two sharers on one carrier (same /24), 60–480 s", "sharing, 4 at once",
             sharers(2, ["node-a", "node-b"], 60, 480, same_block=True), sharing=60),
    Scenario("evader: 3 devices, each a new address every 60 s", "sharing, 3 at once", evader, sharing=60),
]


def build_trace(seed):
    """[(delivered, at, node, user, address)] for every scenario, in the order the queue receives them."""
    events = []
    for index, scenario in enumerate(SCENARIOS):
        trace = Trace(random.Random("%d/%d" % (seed, index)))
        scenario.build(trace)
        user = "user%02d" % (index + 1)
        for at, node, address in trace.connections:
            events.append((trace.delivered(at, node), at, node, user, address))
    events.sort()
    return events


def event_json(at, node, user, address, index):
    timestamp = T0 + at
    email = "%d.%s" % (index, user)
    line = "%s from %s:%d accepted tcp:www.example.com:443 [VLESS TCP REALITY >> DIRECT] email: %s" % (
        time.strftime("%Y/%m/%d %H:%M:%S", time.gmtime(timestamp)), address, 40000 + index, email)
    return json.dumps({"timestamp": round(timestamp, 6), "node_id": node, "node_name": node, "email": email,
                       "client_ip": address, "raw_line": line, "processed_at": round(timestamp + 0.1, 6),
                       "username": user, "inbound": "VLESS TCP REALITY", "outbound": "DIRECT",
                       "forwarded": False, "network": "tcp"})


# ---------------------------------------------------------------------------------------------------------------
# The anchors' rules, from their documentation, on the events as they arrive


def address_window(events, limit=LIMIT, window=300, grace=60):
    """This limiter before issue 21: at each check, the devices (/32, /64 blocks) seen within the last 300 s; over
    the limit at every check for 60 s reports."""
    reported = {}
    since = {}
    i = 0
    seen = {}
    for now in range(STEP, LENGTH + STEP, STEP):
        while i < len(events) and events[i][0] <= now:
            _, at, _, user, address = events[i]
            block = ipaddress.ip_network(address + "/64", strict=False) if ":" in address else address
            seen.setdefault(user, {})[block] = max(seen.get(user, {}).get(block, at), at)
            i += 1
        for user, blocks in seen.items():
            if sum(1 for at in blocks.values() if now - window <= at <= now) > limit:
                since.setdefault(user, now)
                if now - since[user] >= grace:
                    reported.setdefault(user, now)
            else:
                since.pop(user, None)
    return reported


def v2iplimit(events, limit=LIMIT, every=240):
    """V2IpLimit: every TIME_TO_CHECK (240 s), an address counts if it was seen more than twice since the last
    check; more addresses than the limit disables the user; the counts start afresh at each check."""
    reported = {}
    counts = {}
    check = every
    for delivered, _, _, user, address in events + [(LENGTH + every, 0, "", "", "")]:
        while delivered >= check:
            for who, seen in counts.items():
                if sum(1 for n in seen.values() if n > 2) > limit:
                    reported.setdefault(who, check)
            counts = {}
            check += every
        if user:
            counts.setdefault(user, {}).setdefault(address, 0)
            counts[user][address] += 1
    return reported


def remnawave_limiter(events, limit=LIMIT):
    """remnawave-limiter: on each node, every 5 s, an address is active if its last line is less than 60 s old;
    more active addresses than the limit is a violation (at most one a minute per user); three violations within
    5 minutes ban it (fail2ban)."""
    reported = {}
    last = {}  # (node, user) -> {address: last seen}
    violations = {}  # user -> [times]
    i = 0
    for tick in range(5, LENGTH + 1, 5):
        while i < len(events) and events[i][0] <= tick:
            _, at, node, user, address = events[i]
            seen = last.setdefault((node, user), {})
            seen[address] = max(seen.get(address, at), at)
            i += 1
        for (node, user), seen in last.items():
            active = sum(1 for at in seen.values() if tick - at < 60)
            times = violations.setdefault(user, [])
            if active > limit and (not times or tick - times[-1] >= 60):
                times.append(tick)
                if len([t for t in times if tick - t < 300]) >= 3:
                    reported.setdefault(user, tick)
    return reported


def m1m_guardian(events, limit=LIMIT):
    """m1m-guardian: per user, the newest addresses win: when one more than the limit is active, the one seen
    longest ago is banned at once (its README names no expiry of an active address)."""
    reported = {}
    active = {}
    for delivered, at, _, user, address in events:
        seen = active.setdefault(user, {})
        seen[address] = delivered
        if len(seen) > limit:
            oldest = min(seen, key=seen.get)
            del seen[oldest]
            reported.setdefault(user, delivered)
    return reported


# ---------------------------------------------------------------------------------------------------------------
# The real limiter on simulated time


class Webhook(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # the limiter's HTTP client keeps its connection: never close it under it
    received = []

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        Webhook.received.append(body)
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()


def build_if_needed():
    if not os.path.exists(JAR) or not os.path.exists(os.path.join(
            TEST_CLASSES, *BENCH_MAIN.split(".")) + ".class"):
        subprocess.run([os.path.join(ROOT, "mvnw"), "-q", "-DskipTests", "package"], cwd=ROOT, check=True)


def tail(path, lines=20):
    with open(path) as f:
        return "".join(f.readlines()[-lines:])


def checks_done(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/observe/metrics" % port, timeout=10) as answer:
        for line in answer.read().decode().splitlines():
            if line.startswith("marzban_limiter_checks_total"):
                return float(line.split()[-1])
    return 0.0


def run_limiter(events, settings, work):
    server = RedisServer(os.path.join(work, "redis"))
    redis_port = server.port
    webhook = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Webhook)
    threading.Thread(target=webhook.serve_forever, daemon=True).start()
    management = free_port()
    env = dict(os.environ, CENTRAL_REDIS_URL="redis://127.0.0.1:%d/0" % redis_port, LIMITER_ACTION="report",
               MANAGEMENT_PORT=str(management), LOG_LEVEL="WARN", CHECK_INTERVAL="0.1",
               WEBHOOK_URL="http://127.0.0.1:%d/verdicts" % webhook.server_address[1],
               BENCH_START_MILLIS=str(T0 * 1000), **settings)
    log = open(os.path.join(work, "limiter.out"), "w")
    limiter = subprocess.Popen(["java", "-cp", JAR + os.pathsep + TEST_CLASSES, BENCH_MAIN], env=env,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True,
                               start_new_session=True)
    reported = {}
    try:
        redis = server.client()
        deadline = time.time() + 60
        while True:
            try:
                checks_done(management)
                break
            except OSError:
                if time.time() > deadline or limiter.poll() is not None:
                    raise RuntimeError("the limiter did not start:\n" + tail(log.name))
                time.sleep(0.2)
        i = 0
        for step in range(STEP, LENGTH + STEP, STEP):
            batch = []
            while i < len(events) and events[i][0] <= step:
                _, at, node, user, address = events[i]
                batch.append(event_json(at, node, user, address, int(user[4:])))
                i += 1
            # the clock first: an event never reaches the limiter before the moment it happened (it would be clamped)
            limiter.stdin.write("%d\n" % ((T0 + step) * 1000))
            limiter.stdin.flush()
            while True:  # the limiter's own log lines share its standard output
                line = limiter.stdout.readline()
                if not line:
                    raise RuntimeError("the limiter stopped:\n" + tail(log.name))
                if line.startswith("BENCH-NOW"):
                    break
            for start in range(0, len(batch), 500):
                redis.call("LPUSH", QUEUE, *batch[start:start + 500])
            while redis.call("LLEN", QUEUE) > 0:
                time.sleep(0.01)
            target = checks_done(management) + 2  # one check that began after the clock moved, whole
            while checks_done(management) < target:
                time.sleep(0.02)
            for user in (member.decode() for member in redis.call("SMEMBERS", KEY_PREFIX + "acted")):
                reported.setdefault(user, step)
        deadline = time.time() + 10
        while time.time() < deadline and {b["user"] for b in Webhook.received
                                          if b.get("event") == "over_limit"} != set(reported):
            time.sleep(0.1)
        hooked = {b["user"] for b in Webhook.received if b.get("event") == "over_limit"}
        if hooked != set(reported):
            raise RuntimeError("webhook verdicts %s differ from the acted set %s" % (sorted(hooked), sorted(reported)))
        return reported
    finally:
        stop(limiter)
        server.stop()
        webhook.shutdown()


# ---------------------------------------------------------------------------------------------------------------
# The table


def cell(scenario, at):
    if at is None:
        return "—" if scenario.honest else "**missed**"
    if scenario.honest:
        return "**reported** at %d s" % at
    return "after %d s" % (at - scenario.sharing)


def summary(name, verdicts):
    must = [s for s in SCENARIOS if s.must and verdicts.get(s.user) is not None]
    honest = [s for s in SCENARIOS if s.honest and verdicts.get(s.user) is not None]
    caught = [verdicts[s.user] - s.sharing for s in SCENARIOS if not s.honest and verdicts.get(s.user) is not None]
    sharers = sum(1 for s in SCENARIOS if not s.honest)
    times = ("median %d s, longest %d s" % (statistics.median(caught), max(caught))) if caught else "none"
    return "| %s | %d of 4 | %d of %d | %d of %d | %s |" % (
        name, len(must), len(honest), sum(1 for s in SCENARIOS if s.honest), len(caught), sharers, times)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a limiter setting other than its default, e.g. SESSION_LINGER=60")
    args = parser.parse_args()
    if not shutil.which("redis-server"):
        sys.exit("verdict-bench: needs redis-server (apt-get install -y redis-server)")
    settings = dict(DEFAULTS)
    for pair in args.set:
        name, _, value = pair.partition("=")
        settings[name] = value
    if settings["IP_LIMIT"] != str(LIMIT):
        sys.exit("verdict-bench: the scenarios are written for IP_LIMIT=%d" % LIMIT)
    build_if_needed()
    for index, scenario in enumerate(SCENARIOS):
        scenario.user = "user%02d" % (index + 1)
    events = build_trace(args.seed)
    work = tempfile.mkdtemp(prefix="verdict-bench-")
    try:
        ours = run_limiter(events, settings, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rules = [("this limiter", ours), ("before: addresses in a 300 s window", address_window(events)),
             ("V2IpLimit", v2iplimit(events)),
             ("remnawave-limiter", remnawave_limiter(events)), ("m1m-guardian", m1m_guardian(events))]
    print("seed %d, %d events; limiter settings: %s; checked every %d s of simulated time" % (
        args.seed, len(events), ", ".join("%s=%s" % item for item in sorted(settings.items())), STEP))
    print()
    print("| user (truth) | truth | " + " | ".join(name for name, _ in rules) + " |")
    print("|---|---|" + "---|" * len(rules))
    for scenario in SCENARIOS:
        print("| %s | %s | %s |" % (scenario.name, scenario.truth,
                                    " | ".join(cell(scenario, verdicts.get(scenario.user)) for _, verdicts in rules)))
    print()
    print("| rule | honest reported (commuter, mover, turns, IPv6 rotation) | honest reported (all) | "
          "sharers caught | time to catch |")
    print("|---|---|---|---|---|")
    for name, verdicts in rules:
        print(summary(name, verdicts))
    must_ok = not any(ours.get(s.user) is not None for s in SCENARIOS if s.must)
    caught_ok = all(ours.get(s.user) is not None and ours[s.user] - s.sharing <= 180 for s in SCENARIOS
                    if not s.honest)
    return 0 if must_ok and caught_ok else 1


if __name__ == "__main__":
    sys.exit(main())
