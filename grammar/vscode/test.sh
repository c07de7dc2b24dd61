#!/usr/bin/env bash
# Tests of the VS Code extension: the TextMate grammar against the annotated
# samples in test/*.mlp (vscode-tmgrammar-test's `// ^ scope` assertions), and
# a smoke test of extension.js with stubbed VS Code modules.
# Needs `npm ci` in this folder first (scripts/bootstrap does it).
set -euo pipefail
cd "$(dirname "$0")"

runner=node_modules/.bin/vscode-tmgrammar-test
if [[ ! -x $runner ]]; then
  echo "grammar/vscode/test.sh: $runner is missing; run 'npm ci' in grammar/vscode" >&2
  exit 1
fi

# A glob that matched nothing would pass vacuously.
shopt -s nullglob
samples=(test/*.mlp)
if (( ${#samples[@]} == 0 )); then
  echo "grammar/vscode/test.sh: no test/*.mlp samples found" >&2
  exit 1
fi

"$runner" --config package.json "${samples[@]}"
node test/extension.test.js
