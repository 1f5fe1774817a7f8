#!/usr/bin/env bash
# Regenerates every generated file with the generators pinned in
# tools/go.mod: the SDK clients from specs/ (oapi-codegen, sdk/*/*.gen.go),
# then the mocks of the SDK and auth interfaces (mockgen, mocks/*/*.gen.go).
# Each file is made by the go:generate directive beside it. `go tool` finds
# the generators through the workspace, so this runs with go.work even when
# the caller's environment says GOWORK=off.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOWORK="$PWD/go.work"

# The SDK first: the mocks are generated from its interfaces.
for module in sdk mocks; do
  echo "generate: $module"
  (cd "$module" && go generate ./...)
done
