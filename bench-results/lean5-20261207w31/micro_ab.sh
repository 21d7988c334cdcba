#!/usr/bin/env bash
# micro_ab.sh ROUNDS ITER : micro_emit.py from .state/base and .state/cut2 alternately (base first
# on odd rounds, cut first on even), each in its own process; one line per round.
here=$(cd "$(dirname "$0")" && pwd); root=/work/wt/lean5
for r in $(seq 1 "$1"); do
  if [ $((r % 2)) = 1 ]; then order="base cut2"; else order="cut2 base"; fi
  line="round $r load $(cut -d' ' -f1 /proc/loadavg)"
  for v in $order; do
    line="$line $v $(cd $root && nice -n 10 .venv/bin/python "$here/micro_emit.py" .state/$v "$2")"
  done
  echo "$line"
done
