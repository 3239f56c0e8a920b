#!/usr/bin/env bash
# scripts/gen-docs.sh --check fails when a default in code changes and the
# doc does not. The change is made for real: historian_keys.c's batch_ms
# default (200 ms) is edited in a copy, compiled with the build's own flags
# into a copy of the historian's library, and ow-config-doc relinked from
# the build's own link line; gen-docs --check, run on a copy of the docs
# against a build holding that generator, must refuse docs/config.md and
# show the row, while the same check against the unchanged build passes.
# The copies keep the source tree and the build untouched.
#   tests/test_gen_docs.sh BUILD_DIR
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(realpath "${1:?usage: test_gen_docs.sh BUILD_DIR}")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fail=1; fi
}

# The docs gen-docs.sh reads and writes, copied with the script itself (it
# works on the tree it lives in).
tree=$tmp/tree
mkdir -p "$tree/scripts" "$tree/proto"
cp "$src/scripts/gen-docs.sh" "$tree/scripts/"
cp -r "$src/docs" "$src/mibs" "$tree/"
cp "$src/proto/README.md" "$tree/proto/"

# A build dir whose programs are the real ones, and one whose ow-config-doc
# was built from the edited row.
mkbuild() { # mkbuild DIR CONFIG_DOC
  local d=$1 f
  # every program gen-docs.sh runs ("$B/dir/prog")
  for f in $(grep -o '"\$B/[^"]*"' "$src/scripts/gen-docs.sh" | tr -d '"' | sed 's#^\$B/##' | sort -u); do
    mkdir -p "$d/$(dirname "$f")"
    ln -s "$build/$f" "$d/$f"
  done
  ln -sf "$2" "$d/lib/ow-config-doc"
}

# The edit a developer would make: batch_ms defaults to 250 instead of 200.
keys=$src/services/historian/historian_keys.c
sed 's/\(\.key = "batch_ms".*\.def = \)200,/\1250,/' "$keys" >"$tmp/historian_keys.c"
check "the edit changes the batch_ms row" bash -c "! cmp -s '$keys' '$tmp/historian_keys.c'"
check "the doc names batch_ms's default 200" grep -q '^| `services.historian.batch_ms` | integer | 1 .. 60000 | 200 |' "$src/docs/config.md"

# Compile it as the build compiles historian_keys.c, put it into a copy of
# the library and relink the generator with the build's link line.
hd=$build/services/historian/CMakeFiles/historiancore.dir
flags() { sed -n "s/^$1 = //p" "$hd/flags.make"; }
cc=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$build/CMakeCache.txt")
(cd "$build/services/historian" &&
  eval "$cc $(flags C_DEFINES) $(flags C_INCLUDES) $(flags C_FLAGS) -iquote '$src/services/historian'" \
    -c "$tmp/historian_keys.c" -o "$tmp/historian_keys.c.o")
cp "$build/services/historian/libhistoriancore.a" "$tmp/"
ar r "$tmp/libhistoriancore.a" "$tmp/historian_keys.c.o" 2>/dev/null
link=$build/lib/CMakeFiles/ow-config-doc.dir/link.txt
check "ow-config-doc links libhistoriancore.a" grep -q 'libhistoriancore\.a' "$link"
(cd "$build/lib" &&
  sed -e "s#[^ ]*libhistoriancore\.a#$tmp/libhistoriancore.a#g" \
    -e "s#-o ow-config-doc#-o $tmp/ow-config-doc#" "$link" | sh)
check "the rebuilt generator prints the new default" \
  bash -c "'$tmp/ow-config-doc' | grep -q '^| \`services.historian.batch_ms\` | integer | 1 .. 60000 | 250 |'"

mkbuild "$tmp/same" "$build/lib/ow-config-doc"
mkbuild "$tmp/changed" "$tmp/ow-config-doc"
check "gen-docs --check passes against the unchanged build" \
  bash "$tree/scripts/gen-docs.sh" --check "$tmp/same"
rc=0
bash "$tree/scripts/gen-docs.sh" --check "$tmp/changed" >"$tmp/out" 2>&1 || rc=$?
check "gen-docs --check fails once the default changed (rc $rc)" test "$rc" = 1
check "it names docs/config.md" grep -q 'docs/config.md is out of date' "$tmp/out"
check "it shows the row, 200 before and 250 after" \
  bash -c "grep -q '^-| \`services.historian.batch_ms\` .* | 200 |' '$tmp/out' &&
           grep -q '^+| \`services.historian.batch_ms\` .* | 250 |' '$tmp/out'"
check "only docs/config.md is out of date" test "$(grep -c 'is out of date' "$tmp/out")" = 1
check "the copied doc was not rewritten" cmp -s "$src/docs/config.md" "$tree/docs/config.md"
[ $fail = 0 ] && echo "gen_docs: all checks passed"
exit $fail
