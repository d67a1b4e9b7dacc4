#!/usr/bin/env bash
# Installs marzban-ip-limiter-node on a node, with Docker or as a systemd service, then checks it came up.
#
#   scripts/install.sh --mode docker  [--env-file FILE] [--root DIR] [--no-start] [--dry-run]
#   scripts/install.sh --mode systemd [--env-file FILE] [--jar FILE] [--root DIR] [--no-start] [--dry-run]
#
#   --env-file FILE  settings to install (default: config/.env, else a copy of config/.env.example to edit)
#   --jar FILE       the agent jar (default: target/marzban-ip-limiter-node.jar; build it first)
#   --root DIR       install below DIR instead of / (for a look, or a test): no user, ACL, CDS archive or systemctl;
#                    with --mode docker the image is still built and the container started (unless --no-start)
#   --no-start       install only
#   --dry-run        print what would be done, change nothing
# Run from the repository root, as root (except with --root or --dry-run).
set -euo pipefail

mode=""
env_file=""
jar="target/marzban-ip-limiter-node.jar"
root=""
start=1
dry_run=0
while [ $# -gt 0 ]; do
  case "$1" in
    --mode) mode="$2"; shift 2 ;;
    --env-file) env_file="$2"; shift 2 ;;
    --jar) jar="$2"; shift 2 ;;
    --root) root="${2%/}"; shift 2 ;;
    --no-start) start=0; shift ;;
    --dry-run) dry_run=1; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

die() { echo "install.sh: $*" >&2; exit 1; }
step() { echo "==> $*"; }
run() {
  echo "    $*"
  if [ "$dry_run" -eq 0 ]; then "$@"; fi
}

case "$mode" in
  docker|systemd) ;;
  *) die "choose --mode docker or --mode systemd" ;;
esac
if [ ! -f pom.xml ] || [ ! -d scripts ] || [ ! -f bin/marzban-ip-limiter-node ]; then die "run it from the repository root"; fi
if [ -z "$root" ] && [ "$dry_run" -eq 0 ] && [ "$(id -u)" -ne 0 ]; then
  die "run as root (or try --dry-run, or --root DIR)"
fi

if [ -z "$env_file" ]; then
  if [ -f config/.env ]; then env_file=config/.env; else env_file=config/.env.example; fi
fi
[ -r "$env_file" ] || die "cannot read the settings file $env_file"
if [ "$env_file" = config/.env.example ]; then
  echo "install.sh: no config/.env yet; installing the example, edit it before starting (at least NODE_ID and CENTRAL_REDIS_URL)"
  start=0
fi
# the management port and log path, for the checks below
setting() { sed -n "s/^$1=//p" "$env_file" | tail -n 1 | tr -d '"'; }
management_port="$(setting MANAGEMENT_PORT)"; management_port="${management_port:-9876}"
log_path="$(setting ACCESS_LOG_PATH)"; log_path="${log_path:-/var/lib/marzban-node/access.log}"

# installs the settings, but never puts the example over settings already installed
install_settings() {
  if [ "$1" = config/.env.example ] && [ -e "$2" ]; then
    echo "    keeping the settings already in $2"
  else
    run install -m "$3" "$1" "$2"
  fi
}

install_docker() {
  local dir="$root/opt/marzban-ip-limiter-node"
  # Docker Compose v2 (the docker plugin), else v1 (docker-compose 1.29, Debian's package)
  local compose=(docker compose)
  if ! docker compose version >/dev/null 2>&1 && command -v docker-compose >/dev/null 2>&1; then compose=(docker-compose); fi
  step "checking Docker and Docker Compose"
  if command -v docker >/dev/null 2>&1 && "${compose[@]}" version >/dev/null 2>&1; then
    echo "    $("${compose[@]}" version | head -n 1)"
  elif [ "$dry_run" -eq 1 ]; then
    echo "    (not found here; a real run stops at this point)"
  else
    die "Docker with Docker Compose (the compose plugin, or docker-compose) is needed (or use --mode systemd)"
  fi
  step "copying the build files and settings to $dir"
  run mkdir -p "$dir/config"
  run cp -r pom.xml mvnw .mvn src routes docker scripts bin "$dir/"
  install_settings "$env_file" "$dir/config/.env" 0600
  if [ "$start" -eq 1 ]; then
    step "building and starting the container"
    # the compose file mounts the log's folder, at the same path
    export ACCESS_LOG_DIR="${log_path%/*}"
    echo "    ACCESS_LOG_DIR=$ACCESS_LOG_DIR"
    run "${compose[@]}" -f "$dir/docker/docker-compose.yml" up -d --build
    step "waiting for the container to report healthy (its own HEALTHCHECK)"
    if [ "$dry_run" -eq 0 ]; then
      for _ in $(seq 1 40); do
        state="$(docker inspect -f '{{.State.Health.Status}}' marzban-ip-limiter-node 2>/dev/null || true)"
        if [ "$state" = healthy ]; then
          MANAGEMENT_PORT="$management_port" scripts/health-check.sh --container marzban-ip-limiter-node || true
          echo "installed and running"
          exit 0
        fi
        sleep 3
      done
      die "the container did not become healthy; see: docker logs marzban-ip-limiter-node"
    fi
  fi
}

install_systemd() {
  local home="$root/opt/marzban-ip-limiter-node" etc="$root/etc/marzban-ip-limiter-node"
  local unit="$root/etc/systemd/system/marzban-ip-limiter-node.service"
  step "checking Java 17 or newer and the jar"
  if command -v java >/dev/null 2>&1; then
    version="$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1)"
    [ "${version:-0}" -ge 17 ] || die "Java 17 or newer is needed (found ${version:-none}): apt-get install -y openjdk-17-jre-headless"
    echo "    Java $version"
  else
    die "Java 17 or newer is needed: apt-get install -y openjdk-17-jre-headless"
  fi
  [ -f "$jar" ] || die "no jar at $jar: build it with ./mvnw -q -DskipTests package, or pass --jar"
  if [ -z "$root" ]; then
    step "creating the unprivileged user marzban-agent"
    if id marzban-agent >/dev/null 2>&1; then echo "    exists"; else
      run useradd --system --no-create-home --shell /usr/sbin/nologin marzban-agent
    fi
  fi
  step "installing the jar, the settings and the unit"
  run mkdir -p "$home" "$etc" "$(dirname "$unit")"
  run install -m 0644 "$jar" "$home/marzban-ip-limiter-node.jar"
  run install -D -m 0755 bin/marzban-ip-limiter-node "$home/bin/marzban-ip-limiter-node"
  if [ -z "$root" ]; then
    # made now, as root: the service cannot write below /opt. Below --root the archive would name the jar's
    # path there, not the one the unit runs
    run "$home/bin/marzban-ip-limiter-node" cds-archive
  fi
  install_settings "$env_file" "$etc/agent.env" 0640
  if [ -z "$root" ]; then run chown root:marzban-agent "$etc/agent.env"; fi
  if [ "$dry_run" -eq 0 ]; then
    cat > "$unit" <<'UNIT'
[Unit]
Description=marzban-ip-limiter-node: ships Xray's accepted connections to the central Redis
After=network-online.target
Wants=network-online.target

[Service]
User=marzban-agent
Group=marzban-agent
EnvironmentFile=/etc/marzban-ip-limiter-node/agent.env
# the launcher holds the JVM flags (docs/PERFORMANCE.md) and execs java: systemd signals java itself
ExecStart=/opt/marzban-ip-limiter-node/bin/marzban-ip-limiter-node agent
KillSignal=SIGTERM
TimeoutStopSec=30
Restart=on-failure
RestartSec=5
# exit code 2 is a configuration error: restarting would not fix it
RestartPreventExitStatus=2
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes

[Install]
WantedBy=multi-user.target
UNIT
  fi
  echo "    $unit"
  if [ -z "$root" ]; then
    step "giving marzban-agent read access to $log_path"
    if command -v setfacl >/dev/null 2>&1; then
      run setfacl -m u:marzban-agent:rx "$(dirname "$log_path")"
      if [ -e "$log_path" ]; then run setfacl -m u:marzban-agent:r "$log_path"; fi
    else
      echo "    setfacl not found (apt-get install -y acl); grant read access yourself, see docs/INSTALLATION.md"
    fi
    if [ "$start" -eq 1 ]; then
      step "starting the service"
      run systemctl daemon-reload
      run systemctl enable marzban-ip-limiter-node
      run systemctl restart marzban-ip-limiter-node # also picks up a new jar on an upgrade
    fi
  fi
}

"install_$mode"

if [ "$mode" = systemd ] && [ "$start" -eq 1 ] && [ "$dry_run" -eq 0 ]; then
  step "checking that the agent came up (scripts/health-check.sh)"
  for _ in $(seq 1 20); do
    if MANAGEMENT_PORT="$management_port" ACCESS_LOG_PATH="$log_path" scripts/health-check.sh >/dev/null 2>&1; then
      MANAGEMENT_PORT="$management_port" ACCESS_LOG_PATH="$log_path" scripts/health-check.sh
      echo "installed and running"
      exit 0
    fi
    sleep 3
  done
  MANAGEMENT_PORT="$management_port" ACCESS_LOG_PATH="$log_path" scripts/health-check.sh || true
  die "installed, but the agent is not healthy yet (see the lines above, and its logs)"
fi
echo "installed${root:+ below $root}; not started"
