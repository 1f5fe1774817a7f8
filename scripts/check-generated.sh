#!/usr/bin/env bash
# Fails, showing the difference, when the generated files (*.gen.go under
# sdk/ and mocks/) are not what scripts/generate.sh makes from the specs,
# the interfaces and the pinned generators: a spec or interface changed
# without regenerating, a generated file was edited by hand, or one is
# missing or left over. It regenerates into the tree from scratch and then
# puts every generated file back as it was, so the tree is left as found.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

work=$(mktemp -d)
trap 'restore; rm -rf "$work"' EXIT

# gen_files lists the generated files, relative to the root.
gen_files() { find sdk mocks -name '*.gen.go' -type f | sort; }

# copy_gen copies the generated files of the tree into directory $1.
copy_gen() {
  local f
  while IFS= read -r f; do
    mkdir -p "$1/$(dirname "$f")"
    cp -p "$f" "$1/$f"
  done < <(gen_files)
}

mkdir -p "$work/before" "$work/after"
copy_gen "$work/before"

restore() {
  cd "$root"
  gen_files | xargs -r rm -f
  (cd "$work/before" && find . -type f) | while IFS= read -r f; do
    cp -p "$work/before/$f" "$root/$f"
  done
}

# Regenerate from scratch, so that a generated file nothing makes any more
# shows up as deleted.
gen_files | xargs -r rm -f
if ! bash scripts/generate.sh >"$work/generate.log" 2>&1; then
  cat "$work/generate.log" >&2
  echo "check-generated: generation failed" >&2
  exit 1
fi
copy_gen "$work/after"

if ! diff -ruN "$work/before" "$work/after" >"$work/diff"; then
  sed -e "s|$work/before/||; s|$work/after/||" "$work/diff"
  echo >&2
  echo "check-generated: the generated files above differ from what scripts/generate.sh makes (- in the tree, + generated); run it and commit the result" >&2
  exit 1
fi
echo "check-generated: $(wc -l <<<"$(gen_files)") generated files are up to date"
