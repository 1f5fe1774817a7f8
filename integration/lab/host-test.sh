#!/usr/bin/env bash
# host-test.sh [--full]: the lab scripts on this host, without Docker:
# lab.sh up (realm, KDC, Redis and IIS-like replicas on loopback, in a
# temporary directory), then the compose tests against it (TestCompose*:
# /whoami over HTTP and HTTPS, a token replayed to the other replica, the
# KDC stopped and started again with kdc.sh, Redis with redis.sh) with the
# suite attached to the lab's realm (KRBHTTP_LAB_DIR), then lab.sh down,
# always. --full runs the whole integration suite against the lab (with
# -race), not only the compose tests. About 5 s (--full: about a minute).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

run=(-run '^TestCompose')
if [[ ${1:-} == --full ]]; then run=(-race); fi

dir=$(bash "$here/lab.sh" up | sed -n 's/^lab: //p')
[[ -n $dir ]] || { echo "host-test.sh: the lab did not come up" >&2; exit 1; }
trap 'bash "$here/lab.sh" down "$dir"' EXIT
trap 'exit 130' INT TERM
eval "$(bash "$here/lab.sh" env "$dir")"
cd "$here/.."
KRBHTTP_COMPOSE=1 go test -count=1 -timeout 10m "${run[@]}" .
