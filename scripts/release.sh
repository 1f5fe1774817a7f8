#!/usr/bin/env bash
# release.sh VERSION: releases the library modules together at VERSION
# (e.g. v0.2.0), as RELEASING.md describes: every sibling requirement in
# every go.mod is set to VERSION, scripts/release-check.sh proves that an
# outside module builds against them, the change is committed, and the
# tags auth/VERSION, redisstore/VERSION, sdk/VERSION, wsman/VERSION and
# mocks/VERSION are made on that commit. Nothing is pushed: the last line
# printed is the push command to run once satisfied.
set -euo pipefail
cd "$(dirname "$0")/.."

version=${1:-}
if ! [[ $version =~ ^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]]; then
  echo "usage: release.sh vMAJOR.MINOR.PATCH" >&2
  exit 2
fi
if [[ ${version%%.*} != v0 && ${version%%.*} != v1 ]]; then
  echo "release.sh: $version would need /${version%%.*} module paths (semantic import versioning)" >&2
  exit 2
fi
if [[ -n $(git status --porcelain) ]]; then
  echo "release.sh: the working tree has changes; commit or stash them first" >&2
  exit 1
fi
libs=(auth redisstore sdk wsman mocks)
for m in "${libs[@]}"; do
  if git rev-parse -q --verify "refs/tags/$m/$version" >/dev/null; then
    echo "release.sh: tag $m/$version exists" >&2
    exit 1
  fi
done

# Sibling requirements move together: a module of this release must not
# pull an older sibling.
for f in */go.mod; do
  sed -i -E "s#^(\s*github\.com/krbhttp/krbhttp/[a-z]+) v[^ ]+#\1 $version#" "$f"
done
bash scripts/release-check.sh
git diff --quiet || git commit -q -am "Release $version: sibling modules require each other at $version"
for m in "${libs[@]}"; do
  git tag -a "$m/$version" -m "$m $version"
done
echo "release.sh: tagged ${libs[*]/%//$version} on $(git rev-parse --short HEAD)"
echo "git push origin HEAD ${libs[*]/%//$version}"
