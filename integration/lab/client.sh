#!/usr/bin/env bash
# client.sh DIR [TEST-BINARY-ARGS...]: the compose client service's entry
# point. It runs the integration test binary (go test -c) attached to the
# lab realm in DIR (KRBHTTP_LAB_DIR), on the compose network, so the tests
# reach the lab's servers by their real names (HTTP/iis.example.test).
#
# The principals a previous run added are deleted first (reset.sh), so
# "docker compose run client" can be repeated on the same lab. A KCM daemon
# (sssd_kcm) is started in this container for the suite's KCM tests
# (KRBHTTP_KCM_SOCKET); it ends with the container.
#
# TestComposeKDCOutage and TestComposeRedisOutage are deselected: they
# stop the kdc and redis containers, so they run from the host
# (scripts/compose-test.sh). So are the TestWine tests: Wine and the MinGW
# compiler are host-only tools, kept out of the image (scripts/setup.sh);
# scripts/test.sh runs them on the host. So is TestTicketLifecycleSoak:
# it makes a realm of its own, runs two minutes, and runs on the host.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

dir=${1:?usage: client.sh DIR [test binary arguments]}
shift
bash "$here/reset.sh" "$dir"

# The daemon's pid file and socket stay in the container, not on the
# shared volume.
kcmdir=$(mktemp -d)
bash "$here/kcm.sh" start "$kcmdir"
KRBHTTP_KCM_SOCKET=$(<"$kcmdir/kcm.socket")
export KRBHTTP_KCM_SOCKET

export KRBHTTP_LAB_DIR=$dir
exec "${INTEGRATION_TEST:-integration.test}" -test.skip '^(TestCompose(KDC|Redis)Outage|TestWine.*|TestTicketLifecycleSoak)$' "$@"
