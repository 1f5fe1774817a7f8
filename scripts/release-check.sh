#!/usr/bin/env bash
# release-check.sh: can a project outside this repository depend on the
# modules as they are now? It serves the library modules (auth, redisstore,
# sdk, wsman, mocks), as of the tracked files of the working tree, from a
# module proxy on the file system at the version their siblings require
# (read from wsman/go.mod), then builds, vets and tests an outside module
# that requires auth, wsman, sdk and mocks at that version: GOWORK=off, no
# replace directives, and no network for the outside module (third-party
# modules come from this machine's module cache, filled first through the
# configured GOPROXY and served as a second file-system proxy). A sibling
# requirement at a version the proxy does not serve, a replace that only
# works inside the repository, or a package the outside build cannot reach
# fails it. See RELEASING.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

version=$(awk '$1 == "github.com/krbhttp/krbhttp/auth" { print $2; exit }' wsman/go.mod)
[[ $version == v* ]] || { echo "release-check.sh: no auth requirement in wsman/go.mod" >&2; exit 1; }
# Every sibling requirement must name that same version: they are
# released together.
if grep -Hn 'github.com/krbhttp/krbhttp/[a-z]* v' */go.mod | grep -v " $version\( \|$\)"; then
  echo "release-check.sh: the sibling requirements above are not at $version" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
libs=(auth redisstore sdk wsman mocks)
# The tracked files only: build outputs and local files stay out, as
# they would from a tag.
git ls-files -z -- "${libs[@]}" | tar --null -T - -cf - | tar -xf - -C "$work" --one-top-level=src
(cd tools && GOWORK=off go run ./cmd/modproxy -o "$work/proxy" -version "$version" "${libs[@]/#/$work/src/}")

mkdir "$work/outside"
cat >"$work/outside/go.mod" <<MOD
module example.com/outside

go 1.26.0

require (
	github.com/krbhttp/krbhttp/auth $version
	github.com/krbhttp/krbhttp/mocks $version
	github.com/krbhttp/krbhttp/sdk $version
	github.com/krbhttp/krbhttp/wsman $version
)
MOD
cat >"$work/outside/main.go" <<'GO'
// Command outside uses the modules as a project outside the repository
// does.
package main

import (
	"fmt"
	"net/http"
	"os"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/sdk/webhdfs"
	"github.com/krbhttp/krbhttp/wsman"
)

func main() {
	tr, err := auth.NewTransport(nil, auth.WithMutualAuthentication(auth.MutualRequired))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	hdfs, err := webhdfs.NewWithClient("https://namenode.example:9871", &http.Client{Transport: tr})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	w, err := wsman.NewClient("https://host.example:5986/wsman")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer w.Close()
	fmt.Println(hdfs != nil, w != nil)
}
GO
cat >"$work/outside/main_test.go" <<'GO'
package main

import (
	"context"
	"testing"

	"go.uber.org/mock/gomock"

	"github.com/krbhttp/krbhttp/mocks/mockwsman"
	"github.com/krbhttp/krbhttp/wsman"
)

func TestMockRunner(t *testing.T) {
	r := mockwsman.NewMockRunner(gomock.NewController(t))
	r.EXPECT().Run(gomock.Any(), gomock.Any()).Return(3, nil)
	var runner wsman.Runner = r
	if code, err := runner.Run(context.Background(), wsman.RunRequest{Command: "hostname"}); code != 3 || err != nil {
		t.Fatalf("%d %v", code, err)
	}
}
GO

cache=$(go env GOMODCACHE)
# The outside module's go mod tidy also wants the modules that the
# dependencies' own tests import (testify, for one), which building this
# repository never downloads: fetch the whole build list of every library
# into the machine's cache first, through the configured GOPROXY, so the
# offline part below finds them on a fresh machine too.
# (In copies of the go.mod files, laid out as the repository is for their
# replace directives: download would add lines to the go.sum files.)
for m in "${libs[@]}"; do
  mkdir -p "$work/dl/$m"
  cp "$root/$m/go.mod" "$root/$m/go.sum" "$work/dl/$m/"
done
for m in "${libs[@]}"; do
  (cd "$work/dl/$m" && GOWORK=off GOFLAGS=-mod=mod go mod download all)
done
(
  cd "$work/outside"
  # A module cache of its own: the served version must not stay in the
  # machine's cache, where a later run would find the old content.
  export GOWORK=off GOFLAGS=-mod=mod GOTOOLCHAIN=local GOSUMDB=off \
    GOMODCACHE="$work/modcache" GOPROXY="file://$work/proxy,file://$cache/cache/download"
  go mod tidy
  if grep -n replace go.mod; then echo "release-check.sh: replace in the outside go.mod" >&2; exit 1; fi
  go build ./...
  go vet ./...
  go test -count=1 ./...
  echo "release-check.sh: an outside module builds and tests against auth, wsman, sdk and mocks $version:"
  go list -deps -test -f '{{with .Module}}{{.Path}} {{.Version}}{{end}}' ./... | grep krbhttp | sort -u
  # The libraries' own tests' dependencies must not reach their users.
  if go mod graph | grep -E ' github.com/getkin/kin-openapi@'; then
    echo "release-check.sh: a library requires kin-openapi, which only its tests or generators need" >&2
    exit 1
  fi
)
