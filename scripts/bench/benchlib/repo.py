"""Where the repository is, seen from this file, so that the scripts run from any directory."""
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
LAUNCHER = os.path.join(ROOT, "bin", "marzban-ip-limiter-node")
QUEUE = "node_logs_queue"


def launcher_or_exit(program):
    """The launcher's path; exit 2 when it is not there (it builds the jar itself when that is missing)."""
    if not os.access(LAUNCHER, os.X_OK):
        raise SystemExit("%s: %s is missing or not executable" % (program, LAUNCHER))
    return LAUNCHER
