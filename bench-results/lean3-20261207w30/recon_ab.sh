#!/usr/bin/env bash
# recon_ab.sh ORDER... : bench/reconciliation.py from main's archive (base) or this worktree (cut),
# one after the other on the test stack of env.sh; each run's JSON kept here.
set -u
here=$(cd "$(dirname "$0")" && pwd); root=/work/wt/lean3
. "$here/env.sh"
i=0
for v in "$@"; do
  i=$((i+1)); dir=$root; [ "$v" = base ] && dir=$root/.state/base-main
  echo "[$(date -u +%H:%M:%S)] recon-$v-$i load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$here/recon-runs.log"
  (cd "$dir" && PYTHONPATH=$dir nice -n 10 $root/.venv/bin/python bench/reconciliation.py) > "$here/recon-$v-$i.json" 2> "$here/recon-$v-$i.err"
  python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(sys.argv[2], d['ratio'], d['engine']['decisions_per_s'], d['raw_consumer']['messages_per_s'], d['process_cpu_ms_per_decision_after_start'], d['postgres_cpu_ms_per_decision'], d['load_average_1m'])" "$here/recon-$v-$i.json" "recon-$v-$i" >> "$here/recon-runs.log"
done
