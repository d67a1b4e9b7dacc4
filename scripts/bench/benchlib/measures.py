"""What one run measures, after its shipper is ready: burst, idle or steady; and Redis's own ceiling."""
import itertools
import json
import os
import random
import shutil
import statistics
import subprocess
import threading
import time

from benchlib.processes import last_lines
from benchlib.redis import RedisError, RedisServer
from benchlib.repo import QUEUE
from benchlib.shippers import StartFailed, element_problems
from benchlib.xraylines import CANARY_BODY, GENERATOR, LINE, STAMP, bodies, seconds_of, stamp

POLL = 0.02  # burst: how often LLEN is asked
SAMPLE = 2000  # burst: elements checked one by one


def wait_ready(session, client, log_path, launched, timeout=60.0):
    """Appends a canary line every 2 s until one is in Redis (a shipper that opens the file at its end after
    the first canary would never see it), then empties the list. Returns the seconds from launch."""
    began, next_canary = time.time(), 0.0
    while client.call("LLEN", QUEUE) < 1:
        now = time.time()
        if not session.alive():
            raise StartFailed("%s exited while starting (status %s):\n%s"
                              % (session.name, session.popen.returncode, last_lines(session.log_path)))
        if now - began > timeout:
            raise StartFailed("%s: no canary in Redis after %.0f s:\n%s"
                              % (session.name, timeout, last_lines(session.log_path)))
        if now >= next_canary:
            with open(log_path, "a") as log:
                log.write(stamp(now) + " " + CANARY_BODY)
            next_canary = now + 2
        time.sleep(0.05)
    ready = time.time() - launched
    time.sleep(1.0)  # a canary still on its way lands before the list is emptied
    client.call("DEL", QUEUE)
    return ready


def _append(source, log_path):
    with open(source, "rb") as lines, open(log_path, "ab") as log:
        shutil.copyfileobj(lines, log, 1 << 20)


def burst(args, shipper, session, redis, client, log_path):
    count = args.lines
    pids = session.members()
    cpu_before, redis_before, rss_before = session.cpu_seconds(pids), redis.cpu_seconds(), session.rss_kib(pids)
    peak = rss_before
    writer = threading.Thread(target=_append, args=(args.data, log_path), daemon=True)
    began = time.time()
    writer.start()
    members_at, progress_at, last_length, reached, gave_up = began, began, -1, None, None
    while True:
        length, now = client.call("LLEN", QUEUE), time.time()
        if length >= count:
            reached = now
            break
        if now - members_at > 1:
            pids, members_at = session.members() or pids, now
        peak = max(peak, session.rss_kib(pids))
        if length != last_length:
            last_length, progress_at = length, now
        if not session.alive():
            gave_up = "the shipper exited"
        elif now - began > args.timeout:
            gave_up = "not done after %.0f s" % args.timeout
        elif now - progress_at > args.stall:
            gave_up = "no progress for %.0f s" % args.stall
        if gave_up:
            break
        time.sleep(POLL)
    pids = session.members() or pids
    cpu, redis_cpu, hwm = session.cpu_seconds(pids) - cpu_before, redis.cpu_seconds() - redis_before, session.hwm_kib()
    writer.join()
    time.sleep(1.0)  # late or doubled pushes land before the list is read
    final = client.call("LLEN", QUEUE)
    elapsed = (reached or time.time()) - began
    result = dict(lines=count, elapsed_s=elapsed, lines_per_s=(count if reached else length) / elapsed,
                  cpu_s=max(0.0, cpu), cpu_pct=100 * max(0.0, cpu) / elapsed,
                  peak_rss_mib=max(peak, hwm) / 1024, rss_sampled_max_mib=peak / 1024, hwm_main_mib=hwm / 1024,
                  rss_before_mib=rss_before / 1024, redis_cpu_s=redis_cpu, llen=final,
                  lost=max(0, count - final), dup=max(0, final - count), complete=reached is not None,
                  stopped_by=gave_up)
    result.update(_sample(shipper, client, final))
    if args.full_check:
        result.update(_scan(client, final, count))
    return result


def _sample(shipper, client, length):
    """SAMPLE elements at random positions, each checked against the generated lines."""
    positions = random.Random(1).sample(range(length), min(SAMPLE, length))
    values = client.pipeline([("LINDEX", QUEUE, position) for position in positions]) if positions else []
    problems = [found[0] for found in (element_problems(shipper, value or b"") for value in values) if found]
    return dict(sample=len(positions), sample_bad=len(problems), sample_errors=problems[:5])


def _scan(client, length, count):
    """Every element: a generated line's timestamp names it, so distinct timestamps are the lines delivered."""
    seen, dup, foreign = set(), 0, 0
    for start in range(0, length, 10000):
        for value in client.call("LRANGE", QUEUE, start, start + 9999):
            found = STAMP.search(value)
            if not found or b"canary.invalid" in value:
                foreign += 1
            elif found.group(0) in seen:
                dup += 1
            else:
                seen.add(found.group(0))
    return dict(lost=count - len(seen), dup=dup, foreign=foreign)


def idle(args, shipper, session, redis, client, log_path):
    pids = session.members()
    cpu_before, redis_before, samples = session.cpu_seconds(pids), redis.cpu_seconds(), []
    began = time.time()
    while time.time() - began < args.seconds:
        samples.append(session.rss_kib(pids))
        time.sleep(min(1.0, max(0.0, began + args.seconds - time.time())))
    pids = session.members() or pids
    elapsed, cpu = time.time() - began, max(0.0, session.cpu_seconds(pids) - cpu_before)
    return dict(seconds=elapsed, cpu_s=cpu, cpu_pct=100 * cpu / elapsed, rss_mib=max(samples) / 1024,
                rss_avg_mib=statistics.mean(samples) / 1024, hwm_main_mib=session.hwm_kib() / 1024,
                redis_cpu_s=redis.cpu_seconds() - redis_before, llen=client.call("LLEN", QUEUE))


class Consumer(threading.Thread):
    """Pops elements oldest first as they arrive, noting when each was popped."""

    def __init__(self, redis):
        super().__init__(daemon=True)
        self.client = redis.client()
        self.popped = []
        self.stopping = threading.Event()

    def run(self):
        many = self.client.call("COMMAND", "INFO", "BLMPOP")[0] is not None  # Redis 7
        try:
            while not self.stopping.is_set():
                if many:
                    reply = self.client.call("BLMPOP", "0.1", 1, QUEUE, "RIGHT", "COUNT", 1000)
                    values = reply[1] if reply else []
                else:
                    reply = self.client.call("BRPOP", QUEUE, "0.1")
                    values = [reply[1]] if reply else []
                now = time.time()
                self.popped.extend((now, value) for value in values)
        except (OSError, RedisError):
            pass  # Redis stopped under it: the run was interrupted
        finally:
            self.client.close()

    def stop(self):
        self.stopping.set()
        self.join(5)


def steady(args, shipper, session, redis, client, log_path):
    expected = int(args.rate * args.seconds)
    consumer = Consumer(redis)
    consumer.start()
    lines = itertools.cycle(list(itertools.islice(bodies(args.seed), 20000)))
    pids = session.members()
    cpu_before, redis_before, own_before, samples = (session.cpu_seconds(pids), redis.cpu_seconds(),
                                                     time.process_time(), [])
    log = os.open(log_path, os.O_WRONLY | os.O_APPEND)
    written, began = 0, time.time()
    next_sample = began
    try:
        while written < expected:
            due = min(expected, int((time.time() - began) * args.rate) + 1)
            while written < due:  # one write() per line, as Xray writes
                os.write(log, (stamp(time.time()) + " " + next(lines)).encode())
                written += 1
            if time.time() >= next_sample:
                pids, next_sample = session.members() or pids, next_sample + 1
                samples.append(session.rss_kib(pids))
            time.sleep(max(0.0, began + written / args.rate - time.time()))
    finally:
        os.close(log)
    ended = time.time()
    cpu, redis_cpu = max(0.0, session.cpu_seconds(pids) - cpu_before), redis.cpu_seconds() - redis_before
    own_cpu = time.process_time() - own_before
    while len(consumer.popped) < expected and time.time() < ended + 10:
        time.sleep(0.05)
    time.sleep(0.5)
    consumer.stop()
    latencies, unreadable = [], 0
    for popped_at, value in consumer.popped:
        try:
            latencies.append(popped_at - seconds_of(json.loads(value)[shipper.raw_field]))
        except (ValueError, KeyError, TypeError):
            unreadable += 1
    latencies.sort()

    def percentile_ms(fraction):
        return 1000 * latencies[min(len(latencies) - 1, int(fraction * len(latencies)))] if latencies else float("nan")

    elapsed, delivered = ended - began, len(consumer.popped)
    return dict(rate=args.rate, seconds=elapsed, expected=expected, delivered=delivered,
                lost=max(0, expected - delivered), dup=max(0, delivered - expected), unparsable=unreadable,
                p50_ms=percentile_ms(0.5), p99_ms=percentile_ms(0.99), max_ms=percentile_ms(1.0), cpu_s=cpu,
                cpu_pct=100 * cpu / elapsed, peak_rss_mib=max(samples + [session.hwm_kib()]) / 1024,
                rss_mib=(statistics.mean(samples) if samples else 0) / 1024, redis_cpu_s=redis_cpu,
                harness_cpu_s=own_cpu)


MODES = {"burst": burst, "idle": idle, "steady": steady}


def lpush_file(cache_dir, lines_path, count, seed):
    """redis-cli --pipe input: the agent's events for the burst's lines, 50 to an LPUSH; made once, cached."""
    path = os.path.join(cache_dir, "lpush-%s-s%d-n%d.resp" % (GENERATOR, seed, count))
    if os.path.exists(path):
        return path
    partial = "%s.%d.partial" % (path, os.getpid())
    head = b"$5\r\nLPUSH\r\n$%d\r\n%s\r\n" % (len(QUEUE), QUEUE.encode())
    with open(lines_path) as lines, open(partial, "wb") as out:
        for group in iter(lambda: list(itertools.islice(lines, 50)), []):
            out.write(b"*%d\r\n" % (len(group) + 2) + head)
            for line in group:
                value = _agent_event(LINE.match(line.rstrip("\n")), line.rstrip("\n"))
                out.write(b"$%d\r\n%s\r\n" % (len(value), value))
    os.replace(partial, path)
    return path


def _agent_event(match, raw):
    """The event the agent writes for a line (docs/CONFIGURATION.md), as compact JSON."""
    when = seconds_of(match.group("stamp"))
    email = match.group("email")
    fields = [("timestamp", round(when, 6)), ("node_id", "bench-node"), ("node_name", "bench"), ("email", email),
              ("client_ip", match.group("client").strip("[]")), ("raw_line", raw),
              ("processed_at", round(when + 0.0001, 6)), ("username", email.split(".", 1)[1]),
              ("inbound", match.group("inbound")), ("outbound", match.group("outbound")), ("forwarded", False),
              ("network", match.group("network"))]
    return json.dumps(dict(fields), separators=(",", ":")).encode()


def redis_limit(args, directory):
    """redis-cli --pipe LPUSHes the burst's events into a fresh Redis: what Redis alone takes on this machine."""
    redis = RedisServer(directory)
    try:
        client = redis.client()
        redis_before, began = redis.cpu_seconds(), time.time()
        with open(args.lpush_data, "rb") as data:
            piped = subprocess.run([shutil.which("redis-cli"), "-h", "127.0.0.1", "-p", str(redis.port), "--pipe"],
                                   stdin=data, capture_output=True, text=True)
        elapsed, length = time.time() - began, client.call("LLEN", QUEUE)
        client.close()
        return dict(lines=args.lines, elapsed_s=elapsed, lines_per_s=args.lines / elapsed,
                    redis_cpu_s=redis.cpu_seconds() - redis_before, llen=length,
                    ok=piped.returncode == 0 and length == args.lines,
                    pipe=(piped.stdout.strip().splitlines() or [""])[-1])
    finally:
        redis.stop()
