#!/usr/bin/env python3
"""shipbench: the node agent against rsyslog, shipping the same Xray access lines to the same Redis list.

Each run starts a private redis-server and one shipper on an empty log file, waits until a canary line
arrives, then measures one mode:

  burst   (default) --lines N lines (1,000,000) appended at once: seconds until all N are in Redis, lines/s,
          the shipper's CPU-seconds and peak RSS, Redis's CPU-seconds, lost and doubled lines, 2,000 elements
          checked one by one
  idle    nothing written for --seconds (30): CPU-seconds, CPU % of a core, RSS
  steady  --rate lines/s (2,000) for --seconds (60), one write() per line stamped with the time: latency
          p50/p99/max from the line's stamp to its pop from Redis, CPU % of a core, RSS, delivered/expected

--rounds K alternates the shippers (agent, rsyslog, agent, ...); each run is printed, then the medians and the
agent/rsyslog ratios, pair by pair (round i's agent over round i's rsyslog) and their median; the last line is
a one-line summary. The agent is bin/marzban-ip-limiter-node agent, or AGENT_CMD run by bash from the current
directory (e.g. another jar to compare).

Exit status: 0 when every run completed with nothing lost or doubled and every checked element valid; 1
otherwise; 130 when interrupted; 2 when a prerequisite is missing (apt-get install -y rsyslog rsyslog-hiredis
redis-server). Python 3 standard library only; see scripts/bench/README.md.

  python3 scripts/bench/shipbench.py burst --rounds 3
  python3 scripts/bench/shipbench.py idle --seconds 60 --rounds 1
  python3 scripts/bench/shipbench.py steady --rate 2000 --seconds 60 --rounds 1
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from benchlib import measures, report
from benchlib.processes import Session
from benchlib.redis import RedisError, RedisServer
from benchlib.shippers import APT_LINE, Agent, Rsyslog, StartFailed, rsyslogd
from benchlib.xraylines import burst_file


def say(message):
    print("[shipbench %s] %s" % (time.strftime("%H:%M:%S"), message), file=sys.stderr, flush=True)


def arguments():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", nargs="?", default="burst", choices=sorted(measures.MODES))
    parser.add_argument("--lines", type=int, default=1_000_000, help="burst: lines appended (1,000,000)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, the shippers alternating (3)")
    parser.add_argument("--only", choices=["agent", "rsyslog"], help="run one shipper only")
    parser.add_argument("--seconds", type=float, help="idle and steady: how long (30 and 60)")
    parser.add_argument("--rate", type=float, default=2000, help="steady: lines a second (2,000)")
    parser.add_argument("--timeout", type=float, default=600, help="burst: give up after this many seconds (600)")
    parser.add_argument("--stall", type=float, default=60, help="burst: give up after this long without progress (60)")
    parser.add_argument("--with-limit", action="store_true",
                        help="burst: also time redis-cli --pipe LPUSHing the same events, once a round")
    parser.add_argument("--json", metavar="FILE", help="write every figure to FILE")
    parser.add_argument("--install", action="store_true", help="apt-get install what is missing")
    parser.add_argument("--cache-dir", default=os.path.expanduser("~/.cache/marzban-shipbench"),
                        help="where the generated test data is kept (%(default)s)")
    parser.add_argument("--seed", type=int, default=42, help="of the generated lines (42)")
    parser.add_argument("--no-full-check", dest="full_check", action="store_false",
                        help="burst: lost and doubled from LLEN alone, without reading the whole list")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (configs, logs)")
    args = parser.parse_args()
    if args.seconds is None:
        args.seconds = 60.0 if args.mode == "steady" else 30.0
    if args.rounds < 1 or args.lines < 1 or args.rate <= 0 or args.seconds <= 0:
        parser.error("--rounds, --lines, --rate and --seconds must be positive")
    return args


def missing(args, shippers):
    found = [] if shutil.which("redis-server") else ["redis-server"]
    if args.with_limit and not shutil.which("redis-cli"):
        found.append("redis-cli")
    for shipper in shippers:
        found += shipper.missing()
    return found


def check_prerequisites(args, shippers):
    if missing(args, shippers) and args.install:
        say("installing: " + APT_LINE)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update"], env=env)
        subprocess.run(APT_LINE.split(), env=env)
    absent = missing(args, shippers)
    if absent:
        print("missing: %s\ninstall with: %s (or run again with --install)" % (", ".join(absent), APT_LINE),
              file=sys.stderr)
        sys.exit(2)


def version(argv, pattern):
    try:
        found = re.search(pattern, subprocess.run(argv, capture_output=True, text=True, timeout=20).stdout)
        return found.group(1) if found else None
    except (OSError, TypeError, subprocess.TimeoutExpired):
        return None


def one_run(args, shipper, round_number, workdir):
    """A fresh Redis and the shipper on an empty file; ready; the mode's measurement; both stopped."""
    directory = tempfile.mkdtemp(prefix="%d-%s-" % (round_number, shipper.name), dir=workdir)
    log_path = os.path.join(directory, "access.log")
    open(log_path, "w").close()
    redis = session = client = None
    try:
        redis = RedisServer(os.path.join(directory, "redis"))
        client = redis.client()
        launched = time.time()
        session = shipper.start(directory, log_path, redis.port)
        run = dict(shipper=shipper.name, round=round_number, mode=args.mode,
                   ready_s=measures.wait_ready(session, client, log_path, launched))
        run.update(measures.MODES[args.mode](args, shipper, session, redis, client, log_path))
        return run
    finally:
        if client:
            client.close()
        for started in (session, redis):
            if started:
                started.stop()
        if not args.keep:
            shutil.rmtree(directory, ignore_errors=True)


def main():
    args = arguments()
    shippers = [shipper for shipper in (Agent(), Rsyslog()) if args.only in (None, shipper.name)]
    check_prerequisites(args, shippers)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # each one: stop what we started, report
        signal.signal(sig, signal.default_int_handler)
    agent = next((shipper for shipper in shippers if shipper.name == "agent"), None)
    host = dict(cpus=os.cpu_count(), kernel=os.uname().release, python=sys.version.split()[0], cwd=os.getcwd(),
                redis=version(["redis-server", "--version"], r"v=(\S+)"),
                rsyslogd=version([rsyslogd(), "-v"], r"rsyslogd\s+(\S+)"), agent_command=agent and agent.command)
    if args.mode == "burst":
        say("test data in " + args.cache_dir)
        args.data = burst_file(args.cache_dir, args.lines, args.seed)
        if args.with_limit:
            args.lpush_data = measures.lpush_file(args.cache_dir, args.data, args.lines, args.seed)
    size = {"burst": "%d lines" % args.lines, "idle": "%g s" % args.seconds}.get(args.mode,
                                                                                "%g l/s x %g s" % (args.rate, args.seconds))
    print("shipbench %s: %s, %d round(s), shippers %s | %d CPUs | redis %s | rsyslogd %s"
          % (args.mode, size, args.rounds, "/".join(s.name for s in shippers), host["cpus"], host["redis"],
             host["rsyslogd"]))
    if agent:
        print("agent: " + agent.command, flush=True)
    workdir, runs, limits, failed = tempfile.mkdtemp(prefix="shipbench-"), [], [], None
    try:
        for round_number in range(1, args.rounds + 1):
            for shipper in shippers:
                say("round %d/%d: %s %s" % (round_number, args.rounds, shipper.name, args.mode))
                runs.append(one_run(args, shipper, round_number, workdir))
                print(report.run_line(runs[-1]), flush=True)
            if args.with_limit and args.mode == "burst":
                limits.append(measures.redis_limit(args, tempfile.mkdtemp(prefix="limit-", dir=workdir)))
                print(report.limit_line(round_number, limits[-1]), flush=True)
    except (StartFailed, RedisError) as problem:
        failed = str(problem)
    except KeyboardInterrupt:
        failed = "interrupted"
    finally:
        Session.stop_all()
        if args.keep:
            say("kept " + workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if failed:
        print("FAILED: " + failed, file=sys.stderr)
    summary = report.Summary(args, runs, limits) if runs else None
    if summary:
        summary.print_tables()
    line = summary.line() if summary else "%s: no complete run" % args.mode
    if args.json:
        with open(args.json, "w") as out:
            json.dump(dict(mode=args.mode, args=vars(args), host=host, runs=runs, redis_limit=limits,
                           summary=summary.as_json() if summary else {}, summary_line=line, failed=failed),
                      out, indent=1)
    print(line, flush=True)
    wrong = any(run.get("lost") or run.get("dup") or run.get("sample_bad") or run.get("complete") is False
                for run in runs) or any(not limit["ok"] for limit in limits)
    return 130 if failed == "interrupted" else 1 if failed or wrong else 0


if __name__ == "__main__":
    sys.exit(main())
