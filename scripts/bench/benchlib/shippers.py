"""The two shippers compared: the project's agent and a private rsyslogd (imfile, then omhiredis LPUSH)."""
import glob
import json
import os
import shutil
import subprocess

from benchlib.processes import Session
from benchlib.redis import free_port
from benchlib.repo import LAUNCHER, QUEUE
from benchlib.xraylines import LINE

APT_LINE = "apt-get install -y rsyslog rsyslog-hiredis redis-server"
SEED_FIELDS = ("timestamp", "node_id", "node_name", "email", "client_ip", "raw_line", "processed_at")


class StartFailed(Exception):
    pass


class Agent:
    """bin/marzban-ip-limiter-node agent, or AGENT_CMD run by bash from the current directory."""

    name = "agent"
    raw_field = "raw_line"

    def __init__(self):
        self.custom = os.environ.get("AGENT_CMD")
        self.command = self.custom or "%s agent" % os.path.relpath(LAUNCHER)

    def missing(self):
        return [] if self.custom or os.access(LAUNCHER, os.X_OK) else [LAUNCHER]

    def start(self, directory, log_path, redis_port):
        env = dict(os.environ, CENTRAL_REDIS_URL="redis://127.0.0.1:%d/0" % redis_port, ACCESS_LOG_PATH=log_path,
                   NODE_ID="bench-node", NODE_NAME="bench", QUEUE_KEY=QUEUE, MANAGEMENT_PORT=str(free_port()),
                   START_POSITION="end", LOG_LEVEL="WARN")
        argv = ["bash", "-c", self.custom] if self.custom else [LAUNCHER, "agent"]
        # the launcher execs java with -Dmarzban.launcher=...bin/marzban-ip-limiter-node
        markers = self.custom.split() if self.custom else ["marzban-ip-limiter-node"]
        return Session(self.name, argv, os.path.join(directory, "agent.out"), markers, env=env)

    @staticmethod
    def problems(element, match):
        found = ["no field %s" % field for field in SEED_FIELDS if field not in element]
        wanted = {"email": match.group("email"), "client_ip": match.group("client").strip("[]")}
        found += ["%s %r, the line says %r" % (field, element.get(field), value)
                  for field, value in wanted.items() if element.get(field) != value]
        return found


# The element is built field by field with format="json" (escaped, no trailing newline, unlike option.jsonf).
RSYSLOG_CONF = """# a private rsyslogd started by scripts/bench/shipbench.py, not the system's
global(workDirectory="{work}" maxMessageSize="64k")
module(load="imfile" mode="inotify")
module(load="omhiredis")
template(name="element" type="list") {{
  constant(value="{{\\"node\\":\\"")        property(name="hostname" format="json")
  constant(value="\\",\\"ingested_at\\":\\"") property(name="timegenerated" dateFormat="rfc3339" format="json")
  constant(value="\\",\\"file\\":\\"")        property(name="$!metadata!filename" format="json")
  constant(value="\\",\\"line\\":\\"")        property(name="msg" format="json")
  constant(value="\\"}}")
}}
input(type="imfile" file="{log}" tag="xray" ruleset="ship" addMetadata="on" freshStartTail="off"
      reopenOnTruncate="on" persistStateInterval="10000")
ruleset(name="ship") {{
  action(type="omhiredis" server="127.0.0.1" serverport="{port}" mode="queue" key="{queue}" template="element"
         action.resumeRetryCount="-1" action.resumeInterval="1")
}}
"""


def rsyslogd():
    return shutil.which("rsyslogd") or next(iter(glob.glob("/usr/sbin/rsyslogd")), None)


class Rsyslog:
    """rsyslogd -n with its own configuration, pid file and work directory; its queues are the defaults."""

    name = "rsyslog"
    raw_field = "line"

    def missing(self):
        found = []
        if not rsyslogd():
            found.append("rsyslogd (rsyslog)")
        if not glob.glob("/usr/lib/*/rsyslog/omhiredis.so") + glob.glob("/usr/lib*/rsyslog/omhiredis.so"):
            found.append("omhiredis.so (rsyslog-hiredis)")
        return found

    def start(self, directory, log_path, redis_port):
        work = os.path.join(directory, "rsyslog")
        os.makedirs(work)
        conf = os.path.join(directory, "rsyslog.conf")
        with open(conf, "w") as out:
            out.write(RSYSLOG_CONF.format(work=work, log=log_path, port=redis_port, queue=QUEUE))
        checked = subprocess.run([rsyslogd(), "-N1", "-f", conf], capture_output=True, text=True)
        if checked.returncode != 0:
            raise StartFailed("rsyslogd -N1 rejects %s:\n%s%s" % (conf, checked.stdout, checked.stderr))
        return Session(self.name, [rsyslogd(), "-n", "-f", conf, "-i", os.path.join(directory, "rsyslogd.pid")],
                       os.path.join(directory, "rsyslogd.out"), ["rsyslogd"])

    @staticmethod
    def problems(element, match):
        return []


def element_problems(shipper, value):
    """What is wrong with one list element: [] when it carries a generated line (and, for the agent, its fields)."""
    try:
        element = json.loads(value)
    except ValueError:
        return ["not JSON: %r" % value[:120]]
    raw = element.get(shipper.raw_field) if isinstance(element, dict) else None
    match = LINE.match(raw.rstrip("\n")) if isinstance(raw, str) else None
    if not match:
        return ["no generated line in %s: %r" % (shipper.raw_field, value[:160])]
    return shipper.problems(element, match)
