#!/bin/sh
# Installed as "go" in the lab image, which has no Go toolchain. The
# integration suite builds the commands it runs as processes with
# "go build -o OUT IMPORT/PATH" (krbcurl, iislike, winrs); prepare.sh built every
# command of the repository on the host into /opt/krbhttp/bin, and this
# copies the one asked for. Anything else fails loudly: it is not a Go.
set -eu
bin=/opt/krbhttp/bin
if [ "$#" -eq 4 ] && [ "$1" = build ] && [ "$2" = -o ]; then
  name=$(basename "$4")
  if [ -x "$bin/$name" ]; then
    exec cp "$bin/$name" "$3"
  fi
  echo "go (prebuilt stand-in): no prebuilt $4 in $bin; add its package to integration/docker/prepare.sh" >&2
  exit 1
fi
echo "go (prebuilt stand-in): only \"go build -o OUT PACKAGE\" of a prebuilt command works in this image, not: go $*" >&2
exit 1
