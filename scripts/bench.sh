#!/usr/bin/env bash
# Benchmarks: go test -bench for the auth module (the replay stores in
# memory and in a file among them) and the Redis replay store, then the
# peer comparison (this project vs curl --negotiate vs python
# requests-kerberos, against the same Apache and KDC in one run). Prints figures; asserts nothing
# about speed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
(cd auth && go test -run '^$' -bench . -benchmem ./...)
(cd redisstore && go test -run '^$' -bench . -benchmem ./...)
(cd integration && go run ./cmd/peerbench -n "${PEERBENCH_N:-200}")
