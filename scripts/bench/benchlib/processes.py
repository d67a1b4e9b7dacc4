"""Processes the scripts start, each in a session of its own, measured and stopped through /proc.

Only what a script started is ever signalled: before each signal the target's /proc entry must show our
session, a start no earlier than our process's, and, for the process itself, the same start time and a
command line naming it.
"""
import os
import signal
import subprocess
import time

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def read_text(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


class Stat:
    """The fields of /proc/PID/stat the scripts use; None when the process is gone."""

    def __init__(self, fields):
        self.state = fields[0]
        self.session = int(fields[3])
        # utime, stime and the reaped children's cutime, cstime
        self.cpu_ticks = sum(int(value) for value in fields[11:15])
        self.started = int(fields[19])

    @staticmethod
    def of(pid):
        text = read_text("/proc/%d/stat" % pid)
        if not text:
            return None
        return Stat(text[text.rindex(")") + 2:].split())


def status_kib(pid, field):
    """A kB figure from /proc/PID/status (VmRSS, VmHWM), 0 when absent."""
    for row in read_text("/proc/%d/status" % pid).splitlines():
        if row.startswith(field + ":"):
            return int(row.split()[1])
    return 0


def command_line(pid):
    return read_text("/proc/%d/cmdline" % pid).replace("\0", " ")


def last_lines(path, count=15):
    return "".join(read_text(path).splitlines(True)[-count:])


class Session:
    """A process started in a new session; the session is its tree (a wrapper's children included)."""

    live = []

    def __init__(self, name, argv, log_path, markers, env=None, cwd=None):
        self.name = name
        self.markers = markers
        self.log_path = log_path
        self.log = open(log_path, "ab")
        self.popen = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT,
                                      env=env, cwd=cwd, start_new_session=True)
        self.pid = self.popen.pid
        stat = Stat.of(self.pid)
        self.started = stat.started if stat else 0
        Session.live.append(self)

    def alive(self):
        return self.popen.poll() is None

    def members(self):
        """The live processes of the session started no earlier than its first."""
        pids = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                stat = Stat.of(int(entry))
                if stat and stat.session == self.pid and stat.started >= self.started and stat.state != "Z":
                    pids.append(int(entry))
        return pids

    def cpu_seconds(self, pids=None):
        pids = self.members() if pids is None else pids
        return sum(stat.cpu_ticks for stat in map(Stat.of, pids) if stat) / TICKS_PER_SECOND

    def rss_kib(self, pids=None):
        pids = self.members() if pids is None else pids
        return sum(status_kib(pid, "VmRSS") for pid in pids)

    def hwm_kib(self):
        return status_kib(self.pid, "VmHWM")

    def _ours(self, pid):
        stat = Stat.of(pid)
        if not stat or stat.state == "Z" or stat.session != self.pid or stat.started < self.started:
            return False
        if pid == self.pid:
            return stat.started == self.started and any(marker in command_line(pid) for marker in self.markers)
        return True

    def _signal(self, pid, sig):
        if not self._ours(pid):
            return False
        try:
            os.kill(pid, sig)
            return True
        except ProcessLookupError:
            return False

    def stop(self, grace=10.0):
        """SIGTERM, SIGKILL after grace; then the same for what is left of the session."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if self.alive() and self._signal(self.pid, sig):
                try:
                    self.popen.wait(grace)
                except subprocess.TimeoutExpired:
                    pass
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if not [pid for pid in self.members() if self._signal(pid, sig)]:
                break
            deadline = time.time() + grace
            while self.members() and time.time() < deadline:
                time.sleep(0.1)
        self.log.close()
        if self in Session.live:
            Session.live.remove(self)

    @staticmethod
    def stop_all():
        for session in reversed(list(Session.live)):
            session.stop(grace=5)
