#!/usr/bin/env bash
# ab.sh VARIANT... : `bench/consumer_cpu.py run decisions` (1,000 ready cases decided through the
# real batch handler, 500 a transaction; process CPU per decision) from .state/<variant> (a git
# archive), one after the other on this worktree's test stack; after each run the decided rows
# are dumped (dump_decisions.sh) so the variants' outputs can be diffed. Variants `plain` and
# `direct`: the base with cut (1)'s prototype (plain_case.py) loaded, written back through the
# ORM or directly.
set -u
here=$(cd "$(dirname "$0")" && pwd); root=/work/wt/lean5
. "$here/env.sh"; export PGPASSWORD=postgres
i=${I0:-0}
for v in "$@"; do
  i=$((i+1)); dir=$root/.state/$v; plain=
  if [ "$v" = plain ]; then dir=$root/.state/base; plain=1; fi
  if [ "$v" = direct ]; then dir=$root/.state/base; plain=2; fi
  echo "[$(date -u +%H:%M:%S)] $v-$i load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$here/runs.log"
  (cd "$dir" && LEAN5_PLAIN=$plain BENCH_CPU_DECISIONS=${N:-1000} nice -n 10 $root/.venv/bin/python "$here/micro.py" "$dir") > "$here/dec-$v-$i.json" 2> "$here/dec-$v-$i.err"
  echo "$v-$i $(cat "$here/dec-$v-$i.json")" >> "$here/runs.log"
  "$here/dump_decisions.sh" "$here/rows-$v-$i.txt" >/dev/null
done
