#!/usr/bin/env bash
# Expansion sharing on and off in oversubscribed runs (64 workers on a small machine),
# alone and four processes at once. Prints one line per run: round, sharing or
# noshare, case, wall seconds (a 4x case is timed until its last process ends).
#
#   bash scripts/oversubscribed-sharing.sh CHECKER [ROUNDS]
#
# Needs the BEEM models in ../shared/fixtures-beem (beside the repository).
set -euo pipefail
checker=${1:?usage: oversubscribed-sharing.sh CHECKER [ROUNDS]}
rounds=${2:-3}
beem=$(cd "$(dirname "$0")/../../shared/fixtures-beem" && pwd)
now() { date +%s.%N; }
timed() { # label, then a command
  local label=$1 start
  shift
  start=$(now)
  "$@" >/dev/null
  echo "$label $(echo "$(now) - $start" | bc)"
}
four() { # the same check four times at once
  for _ in 1 2 3 4; do "$checker" check "$@" >/dev/null & done
  wait
}
for round in $(seq "$rounds"); do
  # Odd rounds start with sharing, even ones without.
  order=(sharing noshare)
  if [ $((round % 2)) -eq 0 ]; then order=(noshare sharing); fi
  for mode in "${order[@]}"; do
    flag=()
    if [ "$mode" = noshare ]; then flag=(--no-share); fi
    common=(--workers 64 --memory-log "${flag[@]}")
    timed "r$round $mode pgm_protocol.8-alone" \
      "$checker" check "$beem/pgm_protocol.8.dve" --no-deadlock "${common[@]}"
    timed "r$round $mode twophase-8-alone" "$checker" check twophase 8 "${common[@]}"
    timed "r$round $mode leader_election.3-4x" \
      four "$beem/leader_election.3.dve" --no-deadlock --max-states 30000 "${common[@]}"
    timed "r$round $mode twophase-7-4x" four twophase 7 "${common[@]}"
    timed "r$round $mode pgm_protocol.8-4x" \
      four "$beem/pgm_protocol.8.dve" --no-deadlock "${common[@]}"
  done
done
