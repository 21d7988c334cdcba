#!/usr/bin/env bash
# recon_ab.sh VARIANT... : bench/reconciliation.py (1,000 ready cases against the raw consumer)
# from .state/<variant>, one after the other, on this worktree's test stack.
here=$(cd "$(dirname "$0")" && pwd); root=/work/wt/recengine
. "$here/env.sh"
i=${I0:-0}
for v in "$@"; do
  i=$((i+1))
  echo "[$(date -u +%H:%M:%S)] $v-$i load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$here/recon-runs.log"
  (cd $root/.state/$v && PYTHONPATH=$PWD nice -n 10 $root/.venv/bin/python bench/reconciliation.py) > "$here/recon-$v-$i.out" 2> "$here/recon-$v-$i.err"
  echo "$v-$i done $(date -u +%H:%M:%S)" >> "$here/recon-runs.log"
done
