#!/usr/bin/env bash
# Checks the package table under "## Layers" in README.md against the tree:
# every Go package of every module has exactly one line there, no line
# names a package that does not exist, and a package imports (outside its
# tests) only packages on lines above its own: the layers run one way.
# Fails with the offending lines.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOWORK="$PWD/go.work"
prefix=github.com/krbhttp/krbhttp/

# The table: the first fenced block after the "## Layers" heading; the
# first word of each line is a package directory, relative to the root.
mapfile -t table < <(awk '
  /^## Layers/ { in_section = 1; next }
  in_section && /^## / { exit }
  in_section && /^```/ { if (in_block) exit; in_block = 1; next }
  in_block && NF { print $1 }
' README.md)
if ((${#table[@]} == 0)); then
  echo "check-layers: README.md has no package table under \"## Layers\""
  exit 1
fi

declare -A line_of
for i in "${!table[@]}"; do
  if [[ -n ${line_of[${table[$i]}]:-} ]]; then
    echo "check-layers: ${table[$i]} is listed twice"
    exit 1
  fi
  line_of[${table[$i]}]=$i
done

status=0
declare -A seen
modules=$(go list -m -f '{{.Dir}}' | sort)
while read -r pkg imports; do
  dir=${pkg#"$prefix"}
  seen[$dir]=1
  mine=${line_of[$dir]:-}
  if [[ -z $mine ]]; then
    echo "check-layers: package $dir is missing from the table in README.md"
    status=1
    continue
  fi
  for imp in $imports; do
    [[ $imp == "$prefix"* ]] || continue
    dep=${imp#"$prefix"}
    theirs=${line_of[$dep]:-}
    if [[ -n $theirs ]] && ((theirs >= mine)); then
      echo "check-layers: $dir imports $dep, which is not on a line above it"
      status=1
    fi
  done
done < <(for m in $modules; do (cd "$m" && go list -f '{{.ImportPath}} {{join .Imports " "}}' ./...); done)

for dir in "${table[@]}"; do
  if [[ -z ${seen[$dir]:-} ]]; then
    echo "check-layers: the table in README.md lists $dir, which is not a package"
    status=1
  fi
done
if ((status == 0)); then
  echo "check-layers: ${#table[@]} packages, every import points to a line above"
fi
exit $status
