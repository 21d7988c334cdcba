#!/usr/bin/env bash
# micro_ab.sh ROUNDS ITER : micro_emit.py on .state/base and .state/cut alternately (base first on
# odd rounds), each in its own process; µs of process CPU per decision, one line a round.
here=$(cd "$(dirname "$0")" && pwd); root=/work/wt/recengine
for r in $(seq 1 "$1"); do
  if [ $((r % 2)) = 1 ]; then order="base cut"; else order="cut base"; fi
  line="round $r load $(cut -d' ' -f1 /proc/loadavg)"
  for v in $order; do
    line="$line $v $(cd $root/.state/$v && nice -n 10 $root/.venv/bin/python "$here/micro_emit.py" . "$2")"
  done
  echo "$line"
done
