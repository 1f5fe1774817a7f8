#!/usr/bin/env bash
# base.sh: makes the image the lab's Dockerfile builds FROM
# (krbhttp/base:bookworm) without any registry: debootstrap a minimal
# Debian 12 with the packages baked in, then "docker import" it. Image
# builds then need no network at all.
#
# The packages are those scripts/setup.sh installs on a host (read from
# it, so the two cannot drift apart), so that the client container runs the
# whole integration suite, peers included, plus:
#   ca-certificates       for the images' TLS clients;
#   python3-cffi-backend  debootstrap does not resolve the virtual package
#                         python3-cryptography depends on;
#   python3-winrm         the suite's pywinrm interop test needs it.
#
# Cached: the image records its package list in a label and is made again
# only when that list changed or the image is gone; the downloaded packages
# are kept in /var/cache/krbhttp-debootstrap for that case. About 70-100 s
# the first time (about half of it downloading), 0.1 s after. Needs root
# (debootstrap), and installs debootstrap when it is missing.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

tag=krbhttp/base:bookworm
# The Debian mirror: DEBIAN_MIRROR, else the one this machine's apt uses
# (apt-mirror.sh).
# shellcheck source=apt-mirror.sh
source "$here/apt-mirror.sh"
mirror=${DEBIAN_MIRROR:-$(apt_mirror | head -n 1)}
if [[ -z $mirror ]]; then
  echo "base.sh: no Debian mirror in this machine's apt sources: set DEBIAN_MIRROR (e.g. http://mirror.example/debian)" >&2
  exit 1
fi
cache=/var/cache/krbhttp-debootstrap
# The words of setup.sh's "packages=(...)" array, which may span lines.
mapfile -t packages < <(awk '/^packages=\(/ { on = 1 } on { print; if (/\)/) exit }' "$here/../../scripts/setup.sh" |
  sed 's/^packages=(//; s/).*$//' | tr -s ' \t' '\n' | grep -E '^[a-z0-9][a-z0-9.+-]+$')
if ! printf '%s\n' "${packages[@]}" | grep -qx krb5-kdc; then
  echo "base.sh: cannot read the package list of scripts/setup.sh" >&2
  exit 1
fi
mapfile -t packages < <(printf '%s\n' "${packages[@]}" ca-certificates python3-cffi-backend python3-winrm | sort -u)
want=$(
  IFS=,
  echo "${packages[*]}"
)

current() { docker image inspect -f '{{index .Config.Labels "org.krbhttp.packages"}}' "$tag" 2>/dev/null || true; }

if [[ $(current) == "$want" ]]; then
  echo "base.sh: $tag is present (cached)"
  exit 0
fi

[[ $(id -u) -eq 0 ]] || { echo "base.sh: debootstrap needs root" >&2; exit 1; }
# Two runs at once would both debootstrap: the second waits, then finds
# the image made.
exec 9>/var/lock/krbhttp-base.lock
flock -w 900 9 || { echo "base.sh: another base image build holds the lock" >&2; exit 1; }
if [[ $(current) == "$want" ]]; then
  echo "base.sh: $tag is present (made meanwhile)"
  exit 0
fi

if ! command -v debootstrap >/dev/null; then
  echo "base.sh: installing debootstrap"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
fi

# /var/tmp, not /tmp: the tree is about 200 MB and /tmp may be in memory.
root=$(mktemp -d /var/tmp/krbhttp-base.XXXXXX)
trap 'rm -rf "$root"' EXIT
start=$SECONDS
echo "base.sh: debootstrap bookworm from $mirror with ${packages[*]}"
# debootstrap keeps packages from starting services while it installs
# (policy-rc.d), and removes that afterwards.
mkdir -p "$cache"
if ! timeout 900 debootstrap --cache-dir="$cache" --variant=minbase --include="$want" bookworm "$root" "$mirror" >"$root.log" 2>&1; then
  tail -n 20 "$root.log" >&2
  echo "base.sh: debootstrap failed (full log: $root.log)" >&2
  exit 1
fi
rm -f "$root.log"
# The downloaded packages and indexes are not needed in the image.
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
tar --numeric-owner -C "$root" -c . |
  timeout 600 docker import --change "LABEL org.krbhttp.packages=$want" --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["/bin/bash"]' - "$tag" >/dev/null
echo "base.sh: made $tag in $((SECONDS - start)) s ($(docker image inspect -f '{{.Size}}' "$tag" | awk '{printf "%d MB", $1/1e6}'))"
