#!/usr/bin/env bash
# Runs the integration lab as compose services and tests against it, when a
# Docker engine answers (otherwise says so and succeeds: the host run of
# scripts/test.sh covers the same suite against host processes):
#   1. the base image (made once, cached), the Go binaries and the images
#      (integration/docker/prepare.sh: no registry, no pulls);
#   2. docker-compose up kdc, redis, iis, iis2 and proxy, on ports published on
#      127.0.0.1;
#   3. the client service: the whole integration suite inside the compose
#      network, attached to the lab's realm, reaching HTTP/iis.example.test
#      (and through the proxy container);
#   4. from the host, through the published ports, the compose tests with
#      the KDC container stopped mid-run (docker-compose stop/start kdc),
#      then the redis container (docker-compose stop/start redis), and
#      through the proxy container (Squid requiring Negotiate);
#   5. docker-compose down -v, always.
# Every wait is bounded. KRBHTTP_LAB_PEERS=1 bakes Apache and
# requests-kerberos into the base image so the client also runs those
# peers' tests.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

if ! command -v docker >/dev/null || ! timeout 20 docker info >/dev/null 2>&1; then
  echo "compose-test: no Docker engine found: the compose lab was not run (the host run covers the suite)"
  exit 0
fi
if command -v docker-compose >/dev/null; then
  compose=(docker-compose)
elif docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
else
  echo "compose-test: a Docker engine but no docker-compose nor docker compose: cannot run the compose lab" >&2
  exit 1
fi

# shellcheck source=../integration/lab/lib.sh source-path=SCRIPTDIR
source integration/lab/lib.sh
total=$SECONDS
step() { echo "== compose-test: $* ($((SECONDS - total)) s)"; }

bash scripts/setup.sh # the host half runs go test, whose TestMain needs MIT krb5
step "base image, Go binaries, images"
bash integration/docker/prepare.sh

# A project of its own, on free loopback ports: a user's lab (the default
# project, ports 8088/8080/8443) is left alone.
export COMPOSE_PROJECT_NAME=krbhttp-test-$$
export COMPOSE_FILE=$root/docker-compose.yaml
KRBHTTP_KDC_PORT=$(lab_free_port)
KRBHTTP_IIS_PORT=$(lab_free_port)
KRBHTTP_IIS_TLS_PORT=$(lab_free_port)
KRBHTTP_IIS2_PORT=$(lab_free_port)
KRBHTTP_PARTNER_PORT=$(lab_free_port)
KRBHTTP_KDCPROXY_PORT=$(lab_free_port)
KRBHTTP_PROXY_PORT=$(lab_free_port)
export KRBHTTP_KDC_PORT KRBHTTP_IIS_PORT KRBHTTP_IIS_TLS_PORT KRBHTTP_IIS2_PORT KRBHTTP_PARTNER_PORT KRBHTTP_KDCPROXY_PORT KRBHTTP_PROXY_PORT
work=$(mktemp -d "${TMPDIR:-/tmp}/krbhttp-compose.XXXXXX")

cleanup() {
  local status=$?
  if ((status)); then
    echo "== compose-test: failed; the services' logs:"
    timeout 60 "${compose[@]}" logs --no-color --tail=40 iis iis2 2>&1 || true
    timeout 60 "${compose[@]}" logs --no-color --tail=10 redis 2>&1 || true
    timeout 60 "${compose[@]}" logs --no-color --tail=10 kdc 2>&1 || true
    timeout 60 "${compose[@]}" logs --no-color --tail=10 proxy 2>&1 || true
    echo "== the proxy's cache.log (Squid and its negotiate_kerberos_auth helper):"
    timeout 60 "${compose[@]}" exec -T proxy tail -n 30 /lab/squid/cache.log 2>&1 || true
  fi
  timeout 120 "${compose[@]}" --profile test down -v --remove-orphans >/dev/null 2>&1 || true
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
# Interrupted: exit through the EXIT trap, so the lab is torn down.
trap 'exit 130' INT TERM

step "up kdc redis iis iis2 proxy (project $COMPOSE_PROJECT_NAME)"
timeout 120 "${compose[@]}" up -d --no-build kdc redis iis iis2 proxy

healthy() {
  local id state
  for svc in kdc redis iis iis2 proxy; do
    id=$("${compose[@]}" ps -q "$svc")
    state=$(docker inspect -f '{{.State.Health.Status}}' "$id" 2>/dev/null) || return 1
    [[ $state == healthy ]] || return 1
  done
}
lab_wait 90 "kdc, redis, iis, iis2 and proxy healthy" healthy
step "lab up"

step "client: the integration suite on the compose network"
timeout 900 "${compose[@]}" --profile test run --rm --no-deps client -test.count=1 -test.timeout=10m \
  -test.v 2>&1 | tee "$work/client.log" | grep -E '^(=== RUN   TestCompose|--- (FAIL|SKIP)|    compose_test|client.sh|PASS$|FAIL|ok |panic)' || true
if ! grep -q '^PASS$' "$work/client.log"; then
  cp "$work/client.log" "${TMPDIR:-/tmp}/krbhttp-compose-client.log"
  grep -E -A8 '^\s*--- FAIL' "$work/client.log" | head -n 80
  echo "compose-test: the client's full output: ${TMPDIR:-/tmp}/krbhttp-compose-client.log"
  exit 1
fi
echo "client: $(grep -c '^--- PASS' "$work/client.log") tests passed, $(grep -c '^--- SKIP' "$work/client.log") skipped"

step "host: the compose tests through the published ports, the KDC and Redis stopped mid-run"
timeout 60 "${compose[@]}" exec -T iis cat /lab/tls/ca.pem >"$work/ca.pem"
(
  cd integration
  KRBHTTP_COMPOSE=1 \
    KRBHTTP_LAB_KDC=127.0.0.1:$KRBHTTP_KDC_PORT \
    KRBHTTP_LAB_URL=http://127.0.0.1:$KRBHTTP_IIS_PORT \
    KRBHTTP_LAB_TLS_URL=https://127.0.0.1:$KRBHTTP_IIS_TLS_PORT \
    KRBHTTP_LAB_URL2=http://127.0.0.1:$KRBHTTP_IIS2_PORT \
    KRBHTTP_LAB_HOST=iis.example.test \
    KRBHTTP_LAB_CA=$work/ca.pem \
    KRBHTTP_LAB_PARTNER_URL=http://127.0.0.1:$KRBHTTP_PARTNER_PORT \
    KRBHTTP_LAB_PARTNER_HOST=web.partner.test \
    KRBHTTP_LAB_KDCPROXY_URL=https://127.0.0.1:$KRBHTTP_KDCPROXY_PORT/KdcProxy \
    KRBHTTP_LAB_KDC_STOP="${compose[*]} stop kdc" \
    KRBHTTP_LAB_KDC_START="${compose[*]} start kdc" \
    KRBHTTP_LAB_REDIS_STOP="${compose[*]} stop redis" \
    KRBHTTP_LAB_REDIS_START="${compose[*]} start redis" \
    KRBHTTP_LAB_PROXY=http://proxy.example.test:3128 \
    KRBHTTP_LAB_PROXY_ADDR=127.0.0.1:$KRBHTTP_PROXY_PORT \
    KRBHTTP_LAB_PROXY_LOG_CMD="${compose[*]} exec -T proxy cat /lab/squid/access.log" \
    go test -count=1 -v -timeout 5m -run '^TestCompose' .
)

step "done, tearing down"
