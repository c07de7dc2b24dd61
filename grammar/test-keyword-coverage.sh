#!/usr/bin/env bash
# Tests grammar/check_editor_grammars.py, the check that every keyword and
# operator of Mlp.g4 is highlighted by the TextMate, Vim and tree-sitter
# grammars:
#   (a) it passes on the real files;
#   (b) a keyword added to a copy of Mlp.g4 makes it fail, naming the keyword
#       for each of the four files (TextMate, Vim, grammar.js, highlights.scm);
#   (c) the same for an operator added to a parser rule;
#   (d) a keyword dropped from a copy of the Vim file or an operator from a
#       copy of the TextMate grammar is reported;
#   (e) a tree-sitter folder without queries/highlights.scm is an error, while
#       a minimal stand-in that has every token passes.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
check="$here/check_editor_grammars.py"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

fails=0
passes=0
pass() { echo "ok - $1"; passes=$((passes + 1)); }
fail() { echo "FAIL - $1" >&2; fails=$((fails + 1)); }

# expect_failure NAME PATTERN... -- ARGS: the check must exit 1 and print
# every PATTERN (fixed strings) on stderr.
expect_failure() {
  local name="$1"; shift
  local patterns=()
  while [[ $1 != -- ]]; do patterns+=("$1"); shift; done
  shift
  local status=0
  python3 "$check" "$@" 2>"$tmp/err" >/dev/null || status=$?
  if (( status != 1 )); then
    fail "$name: expected exit status 1, got $status"; cat "$tmp/err" >&2; return
  fi
  for p in "${patterns[@]}"; do
    if ! grep -qF -- "$p" "$tmp/err"; then
      fail "$name: no message containing: $p"; cat "$tmp/err" >&2; return
    fi
  done
  pass "$name"
}

# (a) The real grammars.
if python3 "$check"; then
  pass "the real grammars cover Mlp.g4"
else
  fail "the real grammars cover Mlp.g4"
fi

# (b) A new keyword in Mlp.g4.
cp "$here/Mlp.g4" "$tmp/Mlp.g4"
printf "\nSOMETIMES : 'sometimes' ;\n" >>"$tmp/Mlp.g4"
expect_failure "a new keyword is reported for every grammar" \
  "vscode/syntaxes/mlp.tmLanguage.json: keyword \`sometimes\` from Mlp.g4 is not highlighted" \
  "vim/syntax/mlp.vim: keyword \`sometimes\` from Mlp.g4 is not highlighted" \
  "tree-sitter-mlp/grammar.js: keyword \`sometimes\`" \
  "tree-sitter-mlp/queries/highlights.scm: keyword \`sometimes\` from Mlp.g4 is not highlighted" \
  -- --g4 "$tmp/Mlp.g4"

# (c) A new operator in a parser rule.
cp "$here/Mlp.g4" "$tmp/Mlp2.g4"
printf "\npipeline : expr '=>' expr ;\n" >>"$tmp/Mlp2.g4"
expect_failure "a new operator is reported for every grammar" \
  "mlp.tmLanguage.json: operator \`=>\` from Mlp.g4 is not highlighted" \
  "mlp.vim: operator \`=>\` from Mlp.g4 is not highlighted" \
  "grammar.js: operator \`=>\`" \
  "highlights.scm: operator \`=>\` from Mlp.g4 is not highlighted" \
  -- --g4 "$tmp/Mlp2.g4"

# (d) A keyword or operator dropped from one grammar.
sed 's/\\<when\\>/\\<whence\\>/' "$here/vim/syntax/mlp.vim" >"$tmp/mlp.vim"
expect_failure "a keyword missing from the Vim file is reported" \
  "mlp.vim: keyword \`when\` from Mlp.g4 is not highlighted" \
  -- --vim "$tmp/mlp.vim"
python3 - "$here/vscode/syntaxes/mlp.tmLanguage.json" "$tmp/tm.json" <<'PY'
import json, sys
g = json.load(open(sys.argv[1]))
ops = g["repository"]["operators"]["patterns"]
g["repository"]["operators"]["patterns"] = [r for r in ops if r.get("match") != "~"]
assert len(ops) == len(g["repository"]["operators"]["patterns"]) + 1, "no `~` rule to drop"
json.dump(g, open(sys.argv[2], "w"))
PY
expect_failure "an operator missing from the TextMate grammar is reported" \
  "tm.json: operator \`~\` from Mlp.g4 is not highlighted" \
  -- --textmate "$tmp/tm.json"

# (e) tree-sitter: a stand-in with every token passes; without its
# highlights.scm the check fails rather than skipping the grammar.
mkdir -p "$tmp/ts/queries"
python3 - "$check" "$tmp/ts" <<'PY'
import subprocess, sys
listing = subprocess.run([sys.executable, sys.argv[1], "--list"], check=True,
                         capture_output=True, text=True).stdout.splitlines()
tokens = [t for line in listing for t in line.split(":", 1)[1].split()]
quoted = " ".join('"%s"' % t.replace("\\", "\\\\").replace('"', '\\"') for t in tokens)
with open(sys.argv[2] + "/grammar.js", "w") as f:
    f.write("// stand-in\nmodule.exports = grammar({ name: 'x', rules: { s: $ => choice(%s) } });\n"
            % ", ".join('"%s"' % t for t in tokens))
with open(sys.argv[2] + "/queries/highlights.scm", "w") as f:
    f.write("; stand-in\n[%s] @keyword\n" % quoted)
PY
if python3 "$check" --tree-sitter-dir "$tmp/ts" >/dev/null; then
  pass "a complete tree-sitter stand-in passes"
else
  fail "a complete tree-sitter stand-in passes"
fi
rm "$tmp/ts/queries/highlights.scm"
expect_failure "a missing highlights.scm is an error" \
  "queries/highlights.scm: file not found" \
  -- --tree-sitter-dir "$tmp/ts"
expect_failure "a missing tree-sitter folder is an error" \
  "grammar.js: file not found" \
  -- --tree-sitter-dir "$tmp/no-such-dir"

echo "keyword-coverage: $passes passed, $fails failed"
(( fails == 0 ))
