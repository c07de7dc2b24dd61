#!/usr/bin/env bash
# Tests of the Vim files: opens test/sample.mlp in a headless Vim with only
# this folder on the runtimepath and checks (test/check.vim) that the
# filetype is detected, the ftplugin options are set and that given
# positions get the expected highlight groups. Needs Vim (Debian: vim-nox).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

if ! command -v vim >/dev/null 2>&1; then
  echo "grammar/vim/test.sh: vim not found; install it (apt-get install -y vim-nox)" >&2
  exit 1
fi

report="$(mktemp)"
trap 'rm -f "$report"' EXIT

# -Nu NONE: no user or system vimrc, so only grammar/vim (plus Vim's own
# runtime for `filetype`/`syntax on`) is in play. -es: silent Ex mode.
status=0
MLP_VIM_REPORT="$report" vim -Nu NONE -i NONE -es \
  --cmd "set runtimepath^=$here" \
  -c 'filetype plugin on' -c 'syntax on' \
  -c "edit $here/test/sample.mlp" \
  -S "$here/test/check.vim" </dev/null || status=$?

if [[ ! -s $report ]]; then
  echo "grammar/vim/test.sh: vim exited ($status) before test/check.vim wrote its report" >&2
  exit 1
fi
cat "$report"
if (( status != 0 )) || grep -q '^FAIL' "$report"; then
  exit 1
fi
