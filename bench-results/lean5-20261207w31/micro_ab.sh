#!/usr/bin/env bash
# micro_ab.sh ROUNDS ITER : micro_emit.py on .state/base with the ORM case and with the plain case
# (LEAN5_PLAIN=1) alternately (ORM first on odd rounds), each in its own process; one line a round.
here=$(cd "$(dirname "$0")" && pwd); root=/work/wt/lean5
for r in $(seq 1 "$1"); do
  if [ $((r % 2)) = 1 ]; then order="orm plain"; else order="plain orm"; fi
  line="round $r load $(cut -d' ' -f1 /proc/loadavg)"
  for v in $order; do
    p=; [ $v = plain ] && p=1
    line="$line $v $(cd $root/.state/base && LEAN5_PLAIN=$p nice -n 10 $root/.venv/bin/python "$here/micro_emit.py" . "$2")"
  done
  echo "$line"
done
