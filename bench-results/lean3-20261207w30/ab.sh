#!/usr/bin/env bash
# ab.sh ORDER... : the e2e section from each variant's `git archive` (.state/ab/<variant>: base =
# main 1adecbe2, cut = wave30/lean3 331e1a34), one after the other on the bench stack of
# env-bench.sh; each run's JSON and log kept here.   e.g. MULT=1 bash ab.sh base cut cut base
set -u
here=$(cd "$(dirname "$0")" && pwd); root=/work/wt/lean3
. "$here/env-bench.sh"
$root/.venv/bin/python -m disputedesk.cli stack up >/dev/null || exit 1
export BENCH_E2E_MULTIPLIERS=${MULT:-1} BENCH_E2E_STEP_S=${STEP:-25} BENCH_E2E_IDLE_S=${IDLE:-10}
i=${I0:-0}
for v in "$@"; do
  i=$((i+1)); tag="$v-$i-x$BENCH_E2E_MULTIPLIERS"
  echo "[$(date -u +%H:%M:%S)] $tag load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$here/runs.log"
  (cd "$root/.state/ab/$v" && PYTHONPATH=$root/.state/ab/$v nice -n 10 $root/.venv/bin/python -m bench e2e) > "$here/e2e-$tag.log" 2>&1
  cp "$root/.state/ab/$v/bench-results/e2e.json" "$here/e2e-$tag.json"
  grep -A6 'CPU per accepted' "$here/e2e-$tag.log" | grep '×' | tee -a "$here/runs.log"
done
