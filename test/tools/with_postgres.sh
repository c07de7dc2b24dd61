#!/usr/bin/env bash
# Runs a command with MLC_TEST_POSTGRES_URL pointing at a throwaway server
# (pg_server.sh), which is stopped and removed afterwards whatever happens.
#   with_postgres.sh COMMAND [ARGS...]
set -euo pipefail
tools=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d /tmp/mlc-pg-XXXXXX)
rmdir "$dir"
url=$("$tools/pg_server.sh" start "$dir")
trap '"$tools/pg_server.sh" stop "$dir" >/dev/null 2>&1 || true' EXIT
MLC_TEST_POSTGRES_URL=$url "$@"
