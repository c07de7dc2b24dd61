#!/usr/bin/env bash
# Tests the tree-sitter grammar for mlp:
#   1. installs the tree-sitter CLI if needed (install-cli.sh) into
#      $MLC_TOOLS_DIR, default build/tools/tree-sitter;
#   2. copies the grammar to a scratch directory ($MLC_TS_WORK_DIR, default
#      build/tree-sitter-mlp) and generates the parser there: the generated
#      src/ is not part of the source tree;
#   3. runs `tree-sitter test`: the corpus (test/corpus/*.txt) and the
#      highlight tests (test/highlight/*.mlp);
#   4. checks that every query file compiles;
#   5. parses examples/*.mlp and stdlib/std/*.mlp and fails, naming the file
#      and position, on any ERROR or MISSING node;
#   6. parses test/invalid/*.mlp and fails if one of them parses cleanly.
# Needs node (grammar.js) and a C compiler (`cc`, for the parser).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$here/../.." && pwd)
tools=${MLC_TOOLS_DIR:-$repo_root/build/tools/tree-sitter}
work=${MLC_TS_WORK_DIR:-$repo_root/build/tree-sitter-mlp}
case "$tools" in /*) ;; *) tools=$PWD/$tools ;; esac
case "$work" in /*) ;; *) work=$PWD/$work ;; esac

fail() { printf 'test.sh: FAIL: %s\n' "$*" >&2; exit 1; }
step() { printf '\n== %s\n' "$*"; }

for tool in node cc; do
  command -v "$tool" >/dev/null || fail "'$tool' is not installed (apt-get install nodejs gcc libc6-dev)"
done

# ---- 1. the CLI ---------------------------------------------------------------
"$here/install-cli.sh" "$tools"
ts=$tools/tree-sitter
"$ts" --version

# ---- 2. generate in a scratch copy -----------------------------------------------
grammar=$work/grammars/tree-sitter-mlp
rm -rf "$grammar"
mkdir -p "$grammar" "$work/lib" "$work/config"
cp -R "$here/grammar.js" "$here/package.json" "$here/tree-sitter.json" \
      "$here/queries" "$here/test" "$grammar/"
# Keep the CLI away from the user's ~/.config/tree-sitter and ~/.cache.
export TREE_SITTER_DIR=$work/config
export TREE_SITTER_LIBDIR=$work/lib
printf '{ "parser-directories": ["%s"] }\n' "$work/grammars" >"$TREE_SITTER_DIR/config.json"
cd "$grammar"

step "tree-sitter generate"
"$ts" generate --no-bindings
[[ -s src/parser.c ]] || fail "tree-sitter generate wrote no src/parser.c"

# ---- 3. corpus and highlight tests --------------------------------------------------
step "tree-sitter test"
"$ts" test || fail "tree-sitter test"

# ---- 4. queries --------------------------------------------------------------------
step "queries"
for q in queries/*.scm; do
  "$ts" query --scope source.mlp "$q" "$repo_root/examples/digits.mlp" >/dev/null ||
    fail "$q does not compile"
  echo "ok  $q"
done

# Prints FILE:LINE:COL (1-based) for each ERROR or MISSING node in FILE's tree;
# returns 1 when there is one or the parse fails.
check_clean() {
  local file=$1 out rc=0
  out=$("$ts" parse --scope source.mlp "$file" 2>&1) || rc=$?
  local bad
  bad=$(printf '%s\n' "$out" | awk -v f="$file" '
    match($0, /\((ERROR|MISSING)[^[]*\[[0-9]+, [0-9]+\]/) {
      n = split(substr($0, RSTART + 1, RLENGTH - 2), a, /[][, ]+/)
      what = (n > 3) ? " " a[2] : ""
      printf "%s:%d:%d: %s%s node\n", f, a[n - 1] + 1, a[n] + 1, a[1], what
    }' | awk '!seen[$0]++')
  if [[ -n $bad ]]; then
    printf '%s\n' "$bad"
    return 1
  fi
  if [[ $rc -ne 0 ]]; then
    printf '%s: tree-sitter parse failed (exit %d)\n%s\n' "$file" "$rc" "$out"
    return 1
  fi
  return 0
}

# ---- 5. examples and the standard library parse cleanly ---------------------------------
step "examples/*.mlp and stdlib/std/*.mlp"
shopt -s nullglob
files=("$repo_root"/examples/*.mlp "$repo_root"/stdlib/std/*.mlp)
[[ ${#files[@]} -gt 0 ]] || fail "no examples/*.mlp or stdlib/std/*.mlp found"
bad=0
for f in "${files[@]}"; do
  rel=${f#"$repo_root"/}
  if check_clean "$f" >"$work/check.out"; then
    echo "ok  $rel"
  else
    sed "s|$repo_root/||" "$work/check.out" >&2
    bad=$((bad + 1))
  fi
done
[[ $bad -eq 0 ]] || fail "$bad of ${#files[@]} files do not parse cleanly"

# ---- 6. invalid inputs do not ---------------------------------------------------------------
step "test/invalid/*.mlp (each must have a syntax error)"
invalid=("$here"/test/invalid/*.mlp)
[[ ${#invalid[@]} -gt 0 ]] || fail "no test/invalid/*.mlp found"
bad=0
for f in "${invalid[@]}"; do
  rel=${f#"$repo_root"/}
  if check_clean "$f" >/dev/null; then
    echo "$rel: parses without an ERROR or MISSING node, but is invalid" >&2
    bad=$((bad + 1))
  else
    echo "ok  $rel"
  fi
done
[[ $bad -eq 0 ]] || fail "$bad invalid inputs parse cleanly"

printf '\ntest.sh: all tree-sitter-mlp tests passed\n'
