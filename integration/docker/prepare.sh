#!/usr/bin/env bash
# prepare.sh: everything "docker compose up" needs that no registry can
# give: the base image (base.sh, cached), the Go binaries (built here on
# the host, static, into docker/bin) and the lab image krbhttp/lab:dev,
# built from docker/Dockerfile without pulling. Run it once, and again
# after changing Go code or lab scripts:
#
#   bash integration/docker/prepare.sh && docker compose up
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
integration=$(cd "$here/.." && pwd)

bash "$here/base.sh"

start=$SECONDS
mkdir -p "$here/bin"
# CGO_ENABLED=0: static binaries that run on the base image whatever the
# host's libc; the test binary cannot use -race then (the host run does).
(
  cd "$integration/.."
  export CGO_ENABLED=0
  rm -rf "${here:?}/bin"
  mkdir -p "$here/bin"
  # Every command of the workspace's modules (tools holds generators):
  # the suite runs some of them (krbcurl, iislike, winrs) as processes and
  # finds them through KRBHTTP_BIN_DIR in the image.
  mapfile -t cmds < <(go list -f '{{if eq .Name "main"}}{{.ImportPath}}{{end}}' \
    ./auth/... ./wsman/... ./sdk/... ./mocks/... ./integration/... | grep .)
  go build -o "$here/bin/" "${cmds[@]}"
  cd integration
  go test -c -o "$here/bin/integration.test" .
)
echo "prepare.sh: Go binaries built in $((SECONDS - start)) s"

start=$SECONDS
# The legacy builder: this engine (20.10) and CLI may have no buildx, and
# it needs nothing but the local base image. --pull=false: the base image
# exists only here.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
old=$(docker image inspect -f '{{.Id}}' krbhttp/lab:dev 2>/dev/null || true)
# Quiet unless it fails: the legacy builder's deprecation notice is noise.
if ! DOCKER_BUILDKIT=0 timeout 600 docker build --pull=false -q -f "$here/Dockerfile" \
  -t krbhttp/lab:dev "$integration" >"$log" 2>&1; then
  cat "$log" >&2
  echo "prepare.sh: building krbhttp/lab:dev failed" >&2
  exit 1
fi
# The image it replaces would stay behind, untagged, after every change.
if [[ -n $old && $old != "$(docker image inspect -f '{{.Id}}' krbhttp/lab:dev)" ]]; then
  docker rmi "$old" >/dev/null 2>&1 || true
fi
echo "prepare.sh: image krbhttp/lab:dev built in $((SECONDS - start)) s"
