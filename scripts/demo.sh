#!/usr/bin/env bash
# The main job: installs what is missing, then runs the demo program, which
# starts a throwaway MIT KDC and the IIS-like server on loopback, makes
# authenticated calls, prints what the server saw and tears it all down.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cd integration
exec go run ./cmd/demo
