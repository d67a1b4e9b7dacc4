#!/bin/sh
# Makes a class-data sharing (CDS) archive for the agent jar: the classes the agent loads while starting, stored
# already parsed and verified. Java then starts the agent about 0.5 s sooner and with 0.5 CPU-s less
# (docs/PERFORMANCE.md). Run it with the java that will run the agent.
#
#   scripts/cds-archive.sh JAR ARCHIVE        (JAVA=/path/to/java to use another java than the one on PATH)
#
# The archive fits only this jar file (path, size, time) and this Java build. With another, Java prints one line
# ("Unable to use shared archive ...") and starts the agent without it; rerun this script (the Maven build and the
# install script do). Without an archive at all, Java starts without one and says nothing.
set -eu
[ $# -eq 2 ] || { echo "usage: $0 JAR ARCHIVE" >&2; exit 2; }
jar="$1"
archive="$2"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
: > "$work/access.log"
rm -f "$archive"
# The agent starts and stops after a second, with nothing to ship. Redis on port 1 never answers: no real Redis is
# touched. The same JVM flags as the run command, so the archive is made for the same settings.
if env -i PATH="$PATH" CAMEL_MAIN_DURATIONMAXSECONDS=1 LOG_LEVEL=ERROR CENTRAL_REDIS_URL=redis://127.0.0.1:1/0 \
    ACCESS_LOG_PATH="$work/access.log" NODE_ID=cds-training NODE_NAME=cds-training \
    MANAGEMENT_PORT="$((20000 + $$ % 40000))" \
    "${JAVA:-java}" -XX:ArchiveClassesAtExit="$archive" '-Xlog:cds*=error' \
    -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xmx64m -Xss512k -XX:MaxMetaspaceSize=96m \
    -XX:ReservedCodeCacheSize=32m -XX:+ExitOnOutOfMemoryError -jar "$jar" > "$work/out.log" 2>&1 \
    && [ -s "$archive" ]; then
  echo "cds-archive: made $archive"
else
  # not fatal: the agent runs as well without it, only starts slower
  echo "cds-archive: could not make $archive; the agent will start without it. Its output:" >&2
  tail -n 5 "$work/out.log" >&2
fi
