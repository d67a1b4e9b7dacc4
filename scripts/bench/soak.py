#!/usr/bin/env python3
"""Randomized soak test of marzban-ip-limiter-node: no event lost, none doubled, under chaos.

Runs the agent against a private redis-server for --minutes while a writer appends access lines the
way Xray does, and a chaos loop at random kills the agent with SIGKILL and restarts it, stops it with
SIGTERM, rotates the log by rename (numbered shift, Xray keeps writing into the renamed file for a while)
or by copytruncate, and stops Redis for a while. At the end it waits for the agent to catch up and
compares every element of the Redis list with the lines written.

    python3 scripts/bench/soak.py --minutes 10

Runs the agent through bin/marzban-ip-limiter-node (which builds the jar when it is missing), from any directory.
Needs python3 (standard library only), java and redis-server on the PATH.
Exit status: 0 when nothing was lost, doubled or reordered; 1 otherwise.
"""
import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

from benchlib.processes import status_kib
from benchlib.redis import RedisError, RedisServer, free_port
from benchlib.repo import QUEUE, launcher_or_exit


def log(message):
    print(time.strftime("%H:%M:%S"), message, flush=True)


def line(i):
    """Line i of the test data: an accepted connection with its own time, client and user."""
    return ("2025/01/15 10:%02d:%02d.%06d from 10.%d.%d.%d:%d accepted tcp:www.example.com:443 "
            "[VLESS TCP REALITY >> DIRECT] email: %d.user%d"
            % (i // 3600 % 60, i // 60 % 60, i % 1_000_000, i // 65536 % 256, i // 256 % 256, i % 256,
               1000 + i % 60000, i % 800, i))


def llen(redis):
    """The queue's length, -1 while Redis is down."""
    try:
        client = redis.client()
    except OSError:
        return -1
    try:
        return client.call("LLEN", QUEUE)
    except (OSError, RedisError):
        return -1
    finally:
        client.close()


class Writer(threading.Thread):
    """Appends line after line through a handle it keeps open, as Xray does."""

    def __init__(self, path, rate):
        super().__init__(daemon=True)
        self.path = path
        self.pause = 1.0 / rate
        self.lock = threading.Lock()
        self.handle = open(path, "ab", buffering=0)
        self.written = 0
        self.running = True

    def run(self):
        while self.running:
            with self.lock:
                self.handle.write((line(self.written) + "\n").encode())
                self.written += 1
            time.sleep(self.pause)

    def reopen(self):
        with self.lock:
            self.handle.close()
            self.handle = open(self.path, "ab", buffering=0)

    def stop(self):
        self.running = False
        self.join()
        self.handle.close()


class Agent:
    def __init__(self, launcher, workdir, env):
        self.launcher = launcher
        self.out = open(os.path.join(workdir, "agent.out"), "a")
        self.env = env
        self.process = None
        self.peak_rss_kib = 0

    def start(self):
        self.process = subprocess.Popen([self.launcher, "agent"], env=self.env,
                                        stdout=self.out, stderr=subprocess.STDOUT, start_new_session=True)

    def running(self):
        return self.process is not None and self.process.poll() is None

    def kill(self):
        self.process.kill()
        self.process.wait()

    def terminate(self):
        self.process.terminate()
        return self.process.wait(timeout=120)

    def sample_rss(self):
        self.peak_rss_kib = max(self.peak_rss_kib, status_kib(self.process.pid, "VmRSS"))


def rotated_names(path):
    directory, name = os.path.split(path)
    numbered = []
    for entry in os.listdir(directory):
        suffix = entry[len(name) + 1:]
        if entry.startswith(name + ".") and suffix.isdigit():
            numbered.append(int(suffix))
    return sorted(numbered, reverse=True)


def shift_rotated(path):
    """logrotate's numbered shift: access.log.2 -> .3, access.log.1 -> .2"""
    for n in rotated_names(path):
        os.rename("%s.%d" % (path, n), "%s.%d" % (path, n + 1))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--rate", type=int, default=500, help="lines written per second")
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    launcher = launcher_or_exit("soak")
    rng = random.Random(args.seed)
    workdir = tempfile.mkdtemp(prefix="soak-")
    path = os.path.join(workdir, "access.log")
    open(path, "w").close()
    log("seed %d, work directory %s" % (args.seed, workdir))

    redis = RedisServer(os.path.join(workdir, "redis"), durable=True)
    env = dict(os.environ, NODE_ID="soak", CENTRAL_REDIS_URL=redis.url,
               ACCESS_LOG_PATH=path, START_POSITION="beginning", FLUSH_INTERVAL="0.2",
               ROTATION_QUIET_PERIOD="1", RETRY_DELAY="0.2", MAX_RETRY_DELAY="2", REDIS_TIMEOUT="2",
               SHUTDOWN_TIMEOUT="3", LOG_LEVEL="INFO", MANAGEMENT_PORT=str(free_port()))
    agent = Agent(launcher, workdir, env)
    agent.start()
    time.sleep(2)
    writer = Writer(path, args.rate)
    writer.start()

    counts = {"kill -9": 0, "SIGTERM": 0, "rename": 0, "copytruncate": 0, "redis outage": 0}
    deadline = time.time() + args.minutes * 60
    try:
        while time.time() < deadline:
            time.sleep(rng.uniform(2, 8))
            agent.sample_rss()
            action = rng.choice(list(counts))
            counts[action] += 1
            if action == "kill -9":
                agent.kill()
                time.sleep(rng.uniform(0, 3))
                agent.start()
            elif action == "SIGTERM":
                code = agent.terminate()
                if code != 0:
                    log("agent exited %d on SIGTERM" % code)
                time.sleep(rng.uniform(0, 3))
                agent.start()
            elif action == "rename":
                with writer.lock:
                    shift_rotated(path)
                    os.rename(path, path + ".1")
                time.sleep(rng.uniform(0, 2))  # Xray keeps writing into the renamed file for a while
                writer.reopen()
            elif action == "copytruncate":
                with writer.lock:  # copy and truncate with no write in between (logrotate's own race aside)
                    shift_rotated(path)
                    shutil.copyfile(path, path + ".1")
                    os.truncate(path, 0)
            elif action == "redis outage":
                redis.stop()
                time.sleep(rng.uniform(1, 20))
                redis.start()
            log("%-12s written %7d  in redis %7d" % (action, writer.written, llen(redis)))
    finally:
        writer.stop()

    expected = writer.written
    log("writer stopped after %d lines; waiting for the agent to catch up" % expected)
    if not agent.running():
        agent.start()
    last, stalled_since = -1, time.time()
    while True:
        agent.sample_rss()
        length = llen(redis)
        if length >= expected:
            break
        if length != last:
            last, stalled_since = length, time.time()
        elif time.time() - stalled_since > 60:
            log("no progress for 60 s")
            break
        time.sleep(0.5)
    time.sleep(2)
    code = agent.terminate()

    seen, doubled, out_of_order, previous = set(), 0, 0, -1
    client = redis.client()
    elements = client.call("LRANGE", QUEUE, 0, -1)
    client.close()
    for element in reversed(elements):
        raw = json.loads(element)["raw_line"]
        index = int(raw.rsplit("user", 1)[1])
        if index in seen:
            doubled += 1
        else:
            seen.add(index)
            if index < previous:
                out_of_order += 1
            previous = index
    lost = expected - len([i for i in seen if i < expected])
    redis.stop()
    print()
    print("minutes %.1f, seed %d, chaos: %s" % (args.minutes, args.seed,
                                                 ", ".join("%s %d" % item for item in counts.items())))
    print("agent peak RSS %d MiB, last exit code %d" % (agent.peak_rss_kib // 1024, code))
    print("expected %d, delivered %d, lost %d, doubled %d, out of order %d"
          % (expected, len(elements), lost, doubled, out_of_order))
    if args.keep:
        print("kept", workdir)
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    sys.exit(0 if lost == 0 and doubled == 0 and out_of_order == 0 else 1)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))
    main()
