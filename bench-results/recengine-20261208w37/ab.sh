#!/usr/bin/env bash
# ab.sh VARIANT... : `bench/consumer_cpu.py run decisions` (N ready cases, default 1,000, decided
# through the real batch handler, 500 a transaction) from .state/<variant> (a git archive: base =
# next/w35, cut = this branch), one after the other on this worktree's test stack, through
# micro.py (process CPU inside `reevaluate` and `BatchView.write` counted apart); after each run
# the decided rows are dumped (dump_decisions.sh) so the variants' outputs can be compared.
set -u
here=$(cd "$(dirname "$0")" && pwd); root=/work/wt/recengine
. "$here/env.sh"; export PGPASSWORD=postgres
i=${I0:-0}
for v in "$@"; do
  i=$((i+1)); dir=$root/.state/$v
  echo "[$(date -u +%H:%M:%S)] $v-$i load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$here/runs.log"
  (cd "$dir" && BENCH_CPU_DECISIONS=${N:-1000} nice -n 10 $root/.venv/bin/python "$here/micro.py" "$dir") > "$here/dec-$v-$i.json" 2> "$here/dec-$v-$i.err"
  echo "$v-$i $(cat "$here/dec-$v-$i.json")" >> "$here/runs.log"
  "$here/dump_decisions.sh" "$here/rows-$v-$i.txt" >/dev/null
done
