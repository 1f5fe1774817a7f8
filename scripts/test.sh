#!/usr/bin/env bash
# Runs every check and test of the project: formatting, vet, staticcheck,
# builds and vet for Windows and macOS of every module, then each
# module's tests with the race detector, standalone (GOWORK=off)
# so a module that only builds inside the workspace is caught; the
# generated-code drift check; an outside module built against the modules
# served from a local module proxy; the lab scripts on this host; the compose lab
# when a Docker engine answers; and one pass of every benchmark. The
# end-to-end tests start their own MIT KDC and servers on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

# Each step says when it started, in seconds since this script did, so a
# slow run shows where its time went.
step() { echo; echo "== $* (${SECONDS} s)"; }
step "setup: the packages and tools every step needs"
bash scripts/setup.sh
export PATH="$(go env GOPATH)/bin:$PATH"

modules=(auth redisstore sdk wsman mocks tools integration)
status=0

step gofmt
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [[ -n $unformatted ]]; then echo "gofmt would change:"; echo "$unformatted"; status=1; fi

step "go vet and staticcheck (workspace)"
go vet ./auth/... ./redisstore/... ./sdk/... ./wsman/... ./mocks/... ./tools/... ./integration/... || status=1
staticcheck ./auth/... ./redisstore/... ./sdk/... ./wsman/... ./mocks/... ./tools/... ./integration/... || status=1
# The Windows files (SSPI) only compile for Windows: check them there too.
GOOS=windows staticcheck ./auth/... ./redisstore/... ./sdk/... ./wsman/... ./mocks/... ./tools/... ./integration/... || status=1

step "every module builds and vets for Windows and macOS (GOWORK=off)"
for m in "${modules[@]}"; do
  for goos in windows darwin; do
    (cd "$root/$m" && GOOS=$goos GOWORK=off go build ./... && GOOS=$goos GOWORK=off go vet ./...) ||
      { echo "$m does not build or vet for $goos"; status=1; }
  done
done

for m in "${modules[@]}"; do
  step "test $m (GOWORK=off, -race)"
  (cd "$root/$m" && GOWORK=off go vet ./... && GOWORK=off go test -race -count=1 -timeout 20m ./...) || status=1
done

step "README package table matches the tree; imports point down"
bash scripts/check-layers.sh || status=1

step "an outside module can require the modules (release-check.sh)"
bash scripts/release-check.sh || status=1

step "generated code matches its specs"
bash scripts/check-generated.sh || status=1

step "lab scripts on this host (no Docker)"
bash integration/lab/host-test.sh || status=1

step "compose lab (when a Docker engine answers)"
bash scripts/compose-test.sh || status=1

step "benchmarks compile and run once"
bench_log=$(mktemp)
for m in auth redisstore wsman; do
  # Quiet when they pass; the output of a failure is shown.
  if ! (cd "$root/$m" && go test -run '^$' -bench . -benchtime 1x ./... >"$bench_log" 2>&1); then
    grep -v '^\(goos\|goarch\|pkg\|cpu\|Benchmark\)' "$bench_log" | tail -n 40
    status=1
  fi
done
rm -f "$bench_log"

echo
if ((status)); then echo "FAILED (${SECONDS} s)"; else echo "all checks passed (${SECONDS} s)"; fi
exit $status
