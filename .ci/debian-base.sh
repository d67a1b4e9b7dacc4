#!/bin/sh
# Makes the image debian:bookworm-slim for a Docker engine that reaches no image registry: the same Debian
# release from Debian's packages (debootstrap --variant=minbase, from the mirror this host's apt uses), made
# slim the way the real image is, with this host's way to its mirrors, then docker import. debootstrap's
# tree is cached, and an image already imported from the same inputs is kept.
#
#   .ci/debian-base.sh          (as root; DOCKER_HOST names the engine; TEST_CACHE the cache, default below)
set -eu

suite=bookworm
tag="debian:$suite-slim"
cache="${TEST_CACHE:-/var/cache/marzban-ip-limiter-node-test}"

# the host's mirrors for the release, its updates and its security updates: URI and suite, one a line
# shellcheck disable=SC2016 # apt-get expands $(...) in its own format
targets=$(apt-get indextargets --no-release-info --format '$(REPO_URI) $(RELEASE)' 'Identifier: Packages' \
  | awk -v s="$suite" '$2 == s || $2 == s "-updates" || $2 == s "-security"' | sort -u)
mirror=$(echo "$targets" | awk -v s="$suite" '$2 == s { print $1; exit }')
if [ -z "$mirror" ]; then
  echo "debian-base.sh: the host's apt sources name no $suite mirror" >&2
  exit 1
fi
# how the host's apt reaches them: a proxy, or a snapshot mirror whose Release files are past their date
acquire=$(apt-config dump | grep -iE '^Acquire::(Check-Valid-Until|Check-Date|https?::Proxy|Retries) ' || true)
# and the host's own certificate authorities (an HTTPS proxy's): the build fetches Maven over HTTPS
local_cas=/usr/local/share/ca-certificates
key=$(printf '%s\n%s\n' "$targets" "$acquire" | cat - "$0" "$local_cas"/* 2> /dev/null | sha256sum | cut -c1-16)

if [ "$(docker image inspect -f '{{index .Config.Labels "io.marzban.base-key"}}' "$tag" 2> /dev/null)" = "$key" ]; then
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root="$work/root"
mkdir -p "$cache" "$root"
# debootstrap's tree is cached: it takes minutes, the rest seconds
tree="$cache/debootstrap-$suite-$(printf '%s %s' "$mirror" "$(debootstrap --version)" | sha256sum | cut -c1-16).tar"
if [ -f "$tree" ]; then
  tar -C "$root" -xf "$tree"
else
  echo "debian-base.sh: debootstrap $suite from $mirror (a few minutes)" >&2
  if ! debootstrap --variant=minbase "$suite" "$root" "$mirror" > "$work/log" 2>&1; then
    tail -n 20 "$work/log" >&2
    exit 1
  fi
  tar -C "$root" -c . > "$tree.tmp"
  mv -f "$tree.tmp" "$tree"
fi

rm -f "$root/etc/apt/sources.list"
echo "$targets" | while read -r uri release; do
  printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n' \
    "$uri" "$release"
done > "$root/etc/apt/sources.list.d/debian.sources"
[ -z "$acquire" ] || printf '%s\n' "$acquire" > "$root/etc/apt/apt.conf.d/90host-mirror"
if [ -d "$local_cas" ]; then
  cp -r "$local_cas/." "$root/usr/local/share/ca-certificates/"
fi

# what makes the real image slim (debuerreotype's slimify): no documentation, manuals or translations,
# now or in packages installed later; and its apt settings
cat > "$root/etc/dpkg/dpkg.cfg.d/docker" << 'END'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/overrides/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
END
for dir in groff info linda lintian/overrides locale man; do
  rm -rf "${root:?}/usr/share/$dir/"*
done
find "${root:?}/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
find "${root:?}/usr/share/doc" -mindepth 1 -type d -empty -delete
printf 'Dir::Cache::pkgcache "";\nDir::Cache::srcpkgcache "";\n' > "$root/etc/apt/apt.conf.d/docker-clean"
echo 'Acquire::GzipIndexes "true";' > "$root/etc/apt/apt.conf.d/docker-gzip-indexes"
echo 'Acquire::Languages "none";' > "$root/etc/apt/apt.conf.d/docker-no-languages"
echo 'Apt::AutoRemove::SuggestsImportant "false";' > "$root/etc/apt/apt.conf.d/docker-autoremove-suggests"
rm -rf "${root:?}/var/cache/apt/"*.bin "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"* \
  "$root/var/log/"* "$root/var/cache/ldconfig/aux-cache"

tar -C "$root" -c . | docker import --change "LABEL io.marzban.base-key=$key" - "$tag" > /dev/null
echo "debian-base.sh: imported $tag" >&2
