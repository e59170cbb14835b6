#!/usr/bin/env bash
# Resident memory per distinct state (issue #5): peak RSS of `checker check twophase 9`
# minus the baseline of `checker check twophase 1`, divided by the distinct states, for
# the parent log in memory, on disk (the default), and on disk with a checkpoint every
# 5 s. Runs are interleaved; each configuration prints one line per round.
#
#   bash scripts/memory-per-state.sh [ROUNDS] [WORKERS]     (defaults: 3 rounds, 2 workers)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
workers=${2:-2}
cargo build --release -q -p checker-cli
checker=target/release/checker
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
peak() { # peak RSS in KiB and wall seconds of one run
  /usr/bin/time -f "%M %e" -o "$work/time" "$@" > "$work/out" 2>&1 || true
  cat "$work/time"
}
base=$(peak "$checker" check twophase 1 --workers "$workers" | cut -d' ' -f1)
echo "baseline (twophase 1): ${base} KiB"
printf '%-28s %6s %9s %11s %14s\n' configuration round wall_s peak_KiB bytes_per_state
for round in $(seq "$rounds"); do
  for config in memory-log disk-log disk-log+checkpoint-5s; do
    case $config in
      memory-log) extra=(--memory-log) ;;
      disk-log) extra=(--workdir "$work/w") ;;
      disk-log+checkpoint-5s) extra=(--workdir "$work/w" --checkpoint-every 5s) ;;
    esac
    rm -rf "$work/w"
    read -r kib wall < <(peak "$checker" check twophase 9 --workers "$workers" "${extra[@]}")
    grep -q "distinct states:       10,340,352" "$work/out" || { echo "wrong count"; cat "$work/out"; exit 1; }
    per_state=$(python3 -c "print(f'{($kib - $base) * 1024 / 10340352:.1f}')")
    printf '%-28s %6s %9s %11s %14s\n' "$config" "$round" "$wall" "$kib" "$per_state"
  done
done
