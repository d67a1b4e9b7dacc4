#!/bin/sh
# Makes the class-data sharing (CDS) archive again: the classes the agent loads while starting, stored already
# parsed and verified, so that Java starts it sooner (docs/PERFORMANCE.md). The launcher does this by itself when
# the archive is missing or stale; run this after a Java upgrade on a read-only install, as the owner of its
# directory. JAVA=/path/to/java picks the java, as for the launcher.
#
#   scripts/cds-archive.sh        (the same as bin/marzban-ip-limiter-node cds-archive)
set -eu
exec "$(dirname "$0")/../bin/marzban-ip-limiter-node" cds-archive
