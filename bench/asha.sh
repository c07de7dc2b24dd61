#!/usr/bin/env bash
# The digits sweep with ASHA pruning against the same sweep without pruning:
# the same trials (count, seeds, search), each study run side by side in
# this one invocation. Run by `scripts/bench asha`; see its header.
#
#   bench/asha.sh EXE OUTDIR SEEDS PARALLEL THREADS
#
# For each seed s in 0..SEEDS-1 it runs `EXE tune sweep.seed=s
# sweep.refit=false sweep.ensemble=0` once with `sweep.prune=none` and once with
# `sweep.prune=asha`, and prints per seed the study's wall time (the tune
# command as a whole) and best validation loss, then the medians and
#   asha: time_none=<s> time_asha=<s> speedup=<none/asha> best_none=<v> best_asha=<v> loss_gap=<%>
# where loss_gap is how much worse ASHA's best is (median over seeds), and
#   overhead: trial start to first step median=<ms> max=<ms>
# from every trial's log, and the noise floor of the objective:
#   noise: <params> retrained with 10 seeds: best_val_loss median=<v> min=<v> max=<v>
set -euo pipefail
exe=$1 out=$2 seeds=$3 parallel=$4 threads=$5

best() { sqlite3 "$1" "select min(value) from trials where state = 'complete'"; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

rm -rf "$out" && mkdir -p "$out"
for ((s = 0; s < seeds; ++s)); do
  for prune in none asha; do
    root="$out/$prune-$s"
    start=$(date +%s.%N)
    "$exe" tune --root "$root" --threads "$threads" "sweep.seed=$s" "sweep.parallel=$parallel" sweep.refit=false sweep.ensemble=0 \
      "sweep.prune=$prune" > "$root.out" 2> "$root.err"
    end=$(date +%s.%N)
    t=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
    b=$(best "$root/tune/digits_mlp.db")
    echo "$t" >> "$out/time-$prune"
    echo "$b" >> "$out/best-$prune"
    counts=$(grep -o 'trials: .*' "$root.err" | tail -n 1)
    echo "asha/seed$s: prune=$prune time=${t}s best_val_loss=$b ($counts)"
  done
done
tn=$(median < "$out/time-none") ta=$(median < "$out/time-asha")
bn=$(median < "$out/best-none") ba=$(median < "$out/best-asha")
awk -v tn="$tn" -v ta="$ta" -v bn="$bn" -v ba="$ba" 'BEGIN {
  printf "asha: time_none=%.2f time_asha=%.2f speedup=%.2f best_none=%.5f best_asha=%.5f loss_gap=%+.1f%%\n",
         tn, ta, tn / ta, bn, ba, 100 * (ba - bn) / bn }'
# The noise floor: the seed-0 study's best configuration without pruning,
# retrained with 10 other seeds (`trainer.seed`); the best validation loss of
# each run. A study's best is the luckiest of its draws, so a study that
# trains fewer epochs (pruning) sees fewer draws and a higher minimum.
params=$(sqlite3 "$out/none-0/tune/digits_mlp.db" \
  "select params_json from trials where state = 'complete' order by value limit 1" |
  python3 -c 'import json, sys; print(" ".join(f"{k}={v}" for k, v in json.load(sys.stdin).items()))')
for ((s = 1; s <= 10; ++s)); do
  # shellcheck disable=SC2086  # the parameters are separate arguments
  "$exe" fit --root "$out/noise" --threads "$threads" $params "trainer.seed=$s" 2>&1 >/dev/null |
    sed -n 's/.* val\.loss=\([0-9.e+-]*\) .*/\1/p' | sort -g | head -n 1
  rm -rf "$out/noise"
done > "$out/noise-best"
printf 'noise: %s retrained with 10 seeds: best_val_loss median=%.5f min=%.5f max=%.5f\n' "$params" \
  "$(median < "$out/noise-best")" "$(sort -g "$out/noise-best" | head -n 1)" "$(sort -g "$out/noise-best" | tail -n 1)"
grep -h 'first step' "$out"/*/tune/digits_mlp/trial-*.log | sed 's/.*first step \([0-9.]*\) ms.*/\1/' > "$out/first-step"
awk '{ if ($1 > m) m = $1 } END { printf "overhead: trial start to first step median=", "" }' "$out/first-step"
printf '%.1f ms max=%.1f ms over %d trials\n' "$(median < "$out/first-step")" "$(sort -g "$out/first-step" | tail -n 1)" \
  "$(wc -l < "$out/first-step")"
