#!/usr/bin/env bash
# Benchmarks, one command: the Go benchmarks (with allocations, several
# runs each), then every peer comparison against the same servers in the
# same run (integration/cmd/peerbench: gokrb5's spnego.Client, curl
# --negotiate, requests-kerberos, Apache's acceptor, pywinrm). Writes
# BENCHMARKS.md at the repository root and prints it. Figures and ratios
# only: nothing here asserts a speed.
#
# BENCH_COUNT (default 5) runs of each Go benchmark, PEERBENCH_REPS
# (default 5) repetitions and PEERBENCH_N (default 200) requests per peer
# measurement; medians are reported.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
count="${BENCH_COUNT:-5}"
gobench="$(mktemp)"
trap 'rm -f "$gobench"' EXIT
{
	(cd auth && go test -run '^$' -bench . -benchmem -count "$count" ./internal/krbcrypto ./gss .)
	(cd wsman && go test -run '^$' -bench . -benchmem -count "$count" ./encryption)
} | tee "$gobench"
(cd integration && go run ./cmd/peerbench -n "${PEERBENCH_N:-200}" -reps "${PEERBENCH_REPS:-5}" \
	-gobench "$gobench" -out ../BENCHMARKS.md)
