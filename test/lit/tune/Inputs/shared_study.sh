#!/usr/bin/env bash
# Runs one study from two workers at once against a throwaway PostgreSQL
# server: usage: shared_study.sh TOOLS EXE OUT. Each worker has its own
# root (as on two machines); both claim trials from the same study.
set -euo pipefail
tools=$1 exe=$2 out=$3
pg=$(mktemp -d /tmp/mlc-pg-XXXXXX)
rmdir "$pg"
url=$("$tools/pg_server.sh" start "$pg")
trap '"$tools/pg_server.sh" stop "$pg" >/dev/null 2>&1 || true' EXIT
"$exe" tune --root "$out/w1" --threads 1 "sweep.storage=$url" > "$out/w1.out" 2> "$out/w1.err" &
first=$!
"$exe" tune --root "$out/w2" --threads 1 "sweep.storage=$url" > "$out/w2.out" 2> "$out/w2.err" &
second=$!
wait $first
wait $second
"$exe" study "sweep.storage=$url" | sed "s|$url|URL|"
# Which worker ran which trial: both took part, and no trial ran twice.
grep -ho 'trial [0-9]* started' "$out/w1.err" | sort > "$out/w1.trials"
grep -ho 'trial [0-9]* started' "$out/w2.err" | sort > "$out/w2.trials"
echo "worker 1 ran $(wc -l < "$out/w1.trials"), worker 2 ran $(wc -l < "$out/w2.trials")"
echo "trials run by both: $(comm -12 "$out/w1.trials" "$out/w2.trials" | wc -l)"
