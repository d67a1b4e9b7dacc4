#!/usr/bin/env bash
# Checks a running marzban-ip-limiter-node: its process (or container), its readiness as the agent sees it
# (central Redis reachable, access log readable, shipping not stuck) and its key metrics.
# Exit status: 0 healthy, 1 not.
#
#   scripts/health-check.sh [--env-file FILE] [--container NAME] [--credentials USER:PASSWORD]
#
# Settings come from the environment or the env file (MANAGEMENT_HOST, MANAGEMENT_PORT, ACCESS_LOG_PATH).
# With MANAGEMENT_AUTH_FILE on the agent, pass --credentials (or MANAGEMENT_CREDENTIALS=user:password).
set -u

env_file=""
container=""
credentials="${MANAGEMENT_CREDENTIALS:-}"
while [ $# -gt 0 ]; do
  case "$1" in
    --env-file) env_file="$2"; shift 2 ;;
    --container) container="$2"; shift 2 ;;
    --credentials) credentials="$2"; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 1 ;;
  esac
done
if [ -n "$env_file" ]; then
  if [ ! -r "$env_file" ]; then
    echo "FAIL cannot read $env_file" >&2
    exit 1
  fi
  set -a
  # shellcheck disable=SC1090 # the operator's own env file
  . "$env_file"
  set +a
fi

host="${MANAGEMENT_HOST:-127.0.0.1}"
port="${MANAGEMENT_PORT:-9876}"
log_path="${ACCESS_LOG_PATH:-/var/lib/marzban-node/access.log}"
base="http://${host}:${port}/observe"
healthy=0

ok() { echo "OK   $*"; }
fail() { echo "FAIL $*"; healthy=1; }
info() { echo "INFO $*"; }

curl_args=(--silent --max-time 5)
if [ -n "$credentials" ]; then
  curl_args+=(--user "$credentials")
fi
# GET a management URL; printed body, then the HTTP status on a line of its own. In a container the
# management server listens on the container's own loopback, so ask from inside it (its wget).
fetch() {
  if [ -n "$container" ]; then
    local body
    if body="$(docker exec "$container" wget -q -O - "$1" 2>/dev/null)"; then printf '%s\n200' "$body"; else
      body="$(docker exec "$container" wget -q -O - "$1" 2>&1)"
      case "$body" in *503*) printf 'see docker logs %s\n503' "$container" ;; *401*) printf '\n401' ;; *) printf '\n000' ;; esac
    fi
  else
    curl "${curl_args[@]}" --write-out '\n%{http_code}' "$1"
  fi
}

# 1. the process
if [ -n "$container" ]; then
  if ! command -v docker >/dev/null 2>&1; then
    fail "docker is not installed, cannot check container $container"
  elif [ "$(docker inspect -f '{{.State.Running}}' "$container" 2>/dev/null)" = "true" ]; then
    ok "container $container is running"
  else
    fail "container $container is not running"
  fi
else
  pid="$(pgrep -f 'java .*(marzban-ip-limiter-node\.jar|io\.marzban\.iplimiter\.Agent)' | head -n 1)"
  if [ -n "$pid" ]; then
    ok "agent process is running (pid $pid)"
  else
    fail "no agent process found"
  fi
fi

# 2. readiness, with the agent's own reasons
body="$(fetch "$base/health")"
status="${body##*$'\n'}"
body="${body%$'\n'*}"
case "$status" in
  200) ok "ready: central Redis reachable, access log followed, shipping" ;;
  503) fail "not ready: $(printf '%s' "$body" | sed -n 's/.*"message":"\([^"]*\)".*/\1/p' | sed 's#\\\\*/#/#g')" ;;
  401) fail "the management server wants credentials (--credentials USER:PASSWORD)" ;;
  000) fail "no answer from $base/health (is the agent running, MANAGEMENT_PORT=$port?)" ;;
  *) fail "unexpected answer $status from $base/health" ;;
esac

# 3. the access log, as this user sees it (the agent's own view is in the readiness above)
if [ -r "$log_path" ]; then
  ok "access log $log_path is readable here"
else
  info "access log $log_path is not readable by $(id -un) (the agent's user may still read it)"
fi

# 4. key metrics
metrics="$(fetch "$base/metrics")"
metrics="${metrics%$'\n'*}"
metric() { printf '%s\n' "$metrics" | awk -v name="$1" '$1 == name || index($1, name "{") == 1 { sum += $2; found = 1 } END { if (found) printf "%.0f", sum; else print "?" }'; }
if [ -n "$metrics" ]; then
  redis_up="$(metric marzban_redis_up)"
  info "events shipped $(metric marzban_events_shipped_total), write errors $(metric marzban_write_errors_total)," \
    "read lag $(metric marzban_read_lag_bytes) bytes, queue length $(metric marzban_queue_length)"
  if [ "$redis_up" = "1" ]; then
    ok "central Redis answers"
  else
    fail "central Redis does not answer (marzban_redis_up=$redis_up)"
  fi
  if [ "$(metric marzban_xray_masks_addresses)" = "1" ]; then
    fail "Xray masks client addresses (log.maskAddress): IP limiting cannot work until it is removed from Xray's config"
  fi
fi

exit "$healthy"
