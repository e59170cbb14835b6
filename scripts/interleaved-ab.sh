#!/usr/bin/env bash
# Interleaved A/B timing of two or more `checker` builds on one model: each round runs
# every build at 1 and at 2 workers (or the counts in WORKERS), one after another, so
# that the machine's drift spreads over all of them; then prints, per build and worker
# count, the median of the search wall times ("wall time" of `checker check`) and every
# time. Compare builds only by medians from the same run.
#
#   bash scripts/interleaved-ab.sh ROUNDS "MODEL [PARAMS...]" BINARY... [-- CHECK_FLAGS...]
#   WORKERS="2" bash scripts/interleaved-ab.sh 8 "synthetic states=10000000 branching=3" /tmp/a /tmp/b
#
# Build each version's binary first (e.g. in a `git worktree`) and copy it aside.
set -euo pipefail
usage='usage: interleaved-ab.sh ROUNDS "MODEL [PARAMS...]" BINARY... [-- CHECK_FLAGS...]'
rounds=${1:?$usage}
model=${2:?$usage}
shift 2
binaries=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  binaries+=("$1")
  shift
done
[ $# -gt 0 ] && shift
flags=("$@")
[ ${#binaries[@]} -ge 1 ] || { echo "$usage" >&2; exit 2; }
workers=${WORKERS:-1 2}
declare -A times
for _ in $(seq "$rounds"); do
  for b in "${binaries[@]}"; do
    for w in $workers; do
      # Exit code 1 (a violation or deadlock found) is a complete run too.
      # shellcheck disable=SC2086 # the model and its parameters, split on purpose
      out=$("$b" check $model --workers "$w" --progress-every 86400 "${flags[@]}" 2>&1) ||
        [ $? -eq 1 ] || { echo "$b check $model --workers $w: $out" >&2; exit 2; }
      t=$(awk '/wall time/{print $3}' <<<"$out")
      [ -n "$t" ] || { echo "$b check $model --workers $w printed no wall time" >&2; exit 2; }
      times[$b,$w]="${times[$b,$w]:-} $t"
    done
  done
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for b in "${binaries[@]}"; do
  for w in $workers; do
    echo "$b  ${w}w median $(echo "${times[$b,$w]}" | median) s  [${times[$b,$w]# }]"
  done
done
