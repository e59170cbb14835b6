#!/usr/bin/env bash
# Expansion sharing on and off, interleaved: for each round and model, `checker check`
# with 1 worker, 2 workers, and 2 workers with --no-share. With --busy-cpu N, a busy
# loop pinned to CPU N runs throughout (a core of half speed: what unequal cores do to a
# level-synchronous search). Prints one line per run: model|config|wall s|lowest worker
# utilisation|states expanded by a non-owner. Medians are left to the reader (sort).
#
#   bash scripts/sharing-ab.sh CHECKER [--busy-cpu N] [--rounds R] [MODEL ARGS...]
#
# Without a model it runs twophase 9, grid 8 7 and synthetic (10^7 states, 3 successors).
set -euo pipefail
checker=${1:?usage: sharing-ab.sh CHECKER [--busy-cpu N] [--rounds R] [MODEL ARGS...]}
shift
busy=""
rounds=5
while [ $# -gt 0 ]; do
  case $1 in
    --busy-cpu) busy=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    *) break ;;
  esac
done
if [ $# -gt 0 ]; then
  models=("$*")
else
  models=("twophase 9" "grid 8 7" "synthetic states=10000000 branching=3")
fi
json=$(mktemp)
hog=""
cleanup() {
  rm -f "$json"
  if [ -n "$hog" ]; then kill "$hog" 2>/dev/null || true; fi
}
trap cleanup EXIT
if [ -n "$busy" ]; then
  taskset -c "$busy" bash -c 'while :; do :; done' &
  hog=$!
  sleep 0.5
fi
for _ in $(seq "$rounds"); do
  for model in "${models[@]}"; do
    for config in 1w 2w 2w-no-share; do
      case $config in
        1w) flags=(--workers 1) ;;
        2w) flags=(--workers 2) ;;
        2w-no-share) flags=(--workers 2 --no-share) ;;
      esac
      # shellcheck disable=SC2086 # the model and its parameters, split on purpose
      "$checker" check $model "${flags[@]}" --progress-every 86400 --json "$json" >/dev/null || true
      python3 - "$json" "$model" "$config" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
ws = d["telemetry"]["workers"]
util = min(1 - w["idle_s"] / w["wall_s"] for w in ws)
taken = sum(w["states_taken"] for w in ws)
print(f"{sys.argv[2]}|{sys.argv[3]}|{d['elapsed']:.3f}|{util:.3f}|{taken}")
PY
    done
  done
done
