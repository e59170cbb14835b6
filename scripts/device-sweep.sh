#!/usr/bin/env bash
# The issue #3 scaling sweep, prepared to run in one call on a many-core machine (the
# device machine): `checker bench` on twophase 9, grid 8 7 and synthetic (10^7 states,
# 3 successors each) at 1, 2, 4, 8 and 16 workers, 3 repeats, then each model at 16
# workers with expansion sharing off (3 repeats of `checker check --no-share`), then the
# machine's own ceilings at 2 workers and at the top worker count (`checker ceiling`:
# N independent 1-worker checks at once). Results go to OUT_DIR (one folder per model,
# plus summary.txt with each bench's table and, where python3 is there, the top worker
# count's levels from scripts/levels-summary.py, and the TLB shootdowns of one run at the
# top count). About 8 minutes on 16 cores; each part appends to summary.txt as it ends.
#
#   bash scripts/device-sweep.sh CHECKER_BINARY OUT_DIR
#
# Build the binary here (cargo build --release -p checker-cli), strip it, and copy it
# over: the device machine has no network and should spend its time measuring, not
# compiling.
set -euo pipefail
usage="usage: device-sweep.sh CHECKER_BINARY OUT_DIR"
checker=${1:?$usage}
out=${2:?$usage}
mkdir -p "$out"
summary="$out/summary.txt"
{
  echo "device sweep, $(date -u +%FT%TZ), $(nproc) CPUs"
  "$checker" topology || true
} > "$summary"
workers=1,2,4,8,16
if [ "$(nproc)" -lt 16 ]; then
  echo "fewer than 16 CPUs: sweeping 1 to $(nproc) workers" | tee -a "$summary"
  workers=$(python3 -c "import os; n=os.cpu_count(); print(','.join(str(w) for w in (1,2,4,8,16) if w<=n))")
fi
top=${workers##*,}
while read -r name args; do
  echo "== $name ($(date -u +%T))" | tee -a "$summary"
  # shellcheck disable=SC2086 # $args is the model and its parameters, split on purpose
  "$checker" bench $args --workers "$workers" --repeat 3 --out "$out/$name" 2>&1 \
    | grep -v "^\[[0-9]*/[0-9]*\] " | tail -n 12 | tee -a "$summary"
  # Which levels the top worker count's time and waiting went to.
  if command -v python3 >/dev/null; then
    python3 "$(dirname "$0")/levels-summary.py" "$out/$name" "$top" | tee -a "$summary" || true
  fi
done <<'MODELS'
twophase-9 twophase 9
grid-8-7 grid 8 7
synthetic-1e7 synthetic states=10000000 branching=3
MODELS
# The same models at the top worker count with expansion sharing off, for the effect
# of sharing on the same machine in the same session.
while read -r name args; do
  for repeat in 1 2 3; do
    echo "== $name, $top workers, --no-share, repeat $repeat ($(date -u +%T))" | tee -a "$summary"
    # shellcheck disable=SC2086
    "$checker" check $args --workers "$top" --no-share --progress-every 86400 \
      --json "$out/$name-noshare-$repeat.json" 2>&1 | grep -E "wall time|engine:|idle:" | tee -a "$summary"
  done
done <<'MODELS'
twophase-9 twophase 9
grid-8-7 grid 8 7
synthetic-1e7 synthetic states=10000000 branching=3
MODELS
# grid first: it is the cheaper model, so its ceilings survive a run cut short. On a
# machine whose top count is 2, the ceiling at 2 is measured once.
ceilings="2 3 grid 8 7"
if [ "$top" != 2 ]; then
  ceilings="$ceilings
$top 3 grid 8 7"
fi
ceilings="$ceilings
$top 2 twophase 9"
while read -r n rounds args; do
  echo "== machine ceiling, $n independent 1-worker checks at once, $args ($(date -u +%T))" | tee -a "$summary"
  # shellcheck disable=SC2086
  "$checker" ceiling $args --copies "$n" --rounds "$rounds" \
    --json "$out/ceiling-$n-${args// /-}.json" 2>&1 | tail -n 1 | tee -a "$summary"
done <<<"$ceilings"
# TLB shootdowns (interrupts to the other CPUs running a worker) of one run at the top
# worker count, counted machine-wide: docs/benchmarks.md, "Time and idle per level, and
# the table's first pages", has the development machine's counts.
tlb() { awk '/^ *TLB:/ { s = 0; for (i = 2; i <= NF; i++) if ($i ~ /^[0-9]+$/) s += $i; print s }' /proc/interrupts; }
if [ -n "$(tlb 2>/dev/null)" ]; then
  before=$(tlb)
  "$checker" check grid 8 7 --workers "$top" --progress-every 86400 >/dev/null 2>&1 || true
  echo "TLB shootdowns during one grid 8 7 run at $top workers: $(($(tlb) - before))" | tee -a "$summary"
fi
echo "done $(date -u +%T)" | tee -a "$summary"
