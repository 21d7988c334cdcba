#!/usr/bin/env bash
# The A/B of bench-results/rrelay-20261206w25: base = /tmp/rrelay-base (`git archive d843bbd1`),
# cut = /tmp/rrelay-cut (`git archive` of this branch's cut commits), both run with the
# worktree's .venv on the bench stack of env.sh (its own state and ports).
#   ab.sh engine  bench/reconciliation.py (BENCH_RECON_CASES, default 1000): base, cut, cut, base
#   ab.sh cpu     bench/consumer_cpu.py compare: relay, runner, fraud, notifications, 3 rounds
#                 each alternating base, cut; then the same with cut first (cpu-reversed.json)
set -u
HERE=/work/wt/rrelay/bench-results/rrelay-20261206w25
PY=/work/wt/rrelay/.venv/bin/python
. $HERE/env.sh
export BENCH_RECON_CASES=${BENCH_RECON_CASES:-1000}
log() { echo "$(date -u +%T) $* load $(cut -d' ' -f1-3 /proc/loadavg)" >> $HERE/runs.log; }
engine() {  # label dir
  log "start engine $1"
  ( cd "$2" && PYTHONPATH="$2" nice -n 19 $PY bench/reconciliation.py > /dev/null 2>> $HERE/engine-stderr.log )
  cp "$2/bench-results/reconciliation.json" "$HERE/engine-$1.json"
  $PY - "$HERE/engine-$1.json" "$1" >> $HERE/runs.log <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1])); e = r["engine"]
print(f"  {sys.argv[2]}: decided {r['decided']}/{r['cases']}, unbalanced {r['ledger_unbalanced_transactions']}, cpu/decision {r['process_cpu_ms_per_decision']} ms (after start {r['process_cpu_ms_per_decision_after_start']}), pg {r['postgres_cpu_ms_per_decision']} ms, dec/s {e['decisions_per_s']} (steady {e['decisions_per_s_steady']}), raw {r['raw_consumer']['messages_per_s']}, ratio {r['ratio']} (steady {r.get('ratio_steady')}), cores {r['cores_busy_while_deciding']}, load {r.get('load_average_1m')}")
PYEOF
  log "end engine $1"
}
case "${1:-all}" in
engine|all)
  engine base-1 /tmp/rrelay-base
  engine cut-1 /tmp/rrelay-cut
  engine cut-2 /tmp/rrelay-cut
  engine base-2 /tmp/rrelay-base
  ;;&
cpu|all)
  log "start cpu"
  ( cd /work/wt/rrelay && nice -n 19 $PY bench/consumer_cpu.py compare --code base=/tmp/rrelay-base \
      --code cut=/tmp/rrelay-cut --rounds 3 --out $HERE/cpu.json relay runner fraud notifications \
      2> $HERE/cpu-runs.log > /dev/null )
  log "start cpu reversed"
  ( cd /work/wt/rrelay && nice -n 19 $PY bench/consumer_cpu.py compare --code cut=/tmp/rrelay-cut \
      --code base=/tmp/rrelay-base --rounds 2 --out $HERE/cpu-reversed.json relay runner fraud notifications \
      2> $HERE/cpu-reversed-runs.log > /dev/null )
  log "end cpu"
  ;;
esac
# Second part (ab.sh more): the relay on reconciliation's own case events (relay_rows.py, 6
# rounds alternating), the engine again in the other order (cut, base, base, cut), and a py-spy
# profile of the cut engine (3,000 cases, as the base profile before any change).
if [ "${1:-}" = more ]; then
  log "start relay_rows"
  # Measured with aiokafka's default producer (16 KB batches), what relay_rows.py then used.
  ( cd /work/wt/rrelay && RELAY_ROWS_PRODUCER=default PYTHONPATH=/work/wt/rrelay nice -n 19 $PY $HERE/relay_rows.py compare \
      base=/tmp/rrelay-base cut=/tmp/rrelay-cut --rounds 6 > $HERE/relay-rows.json 2> $HERE/relay-rows-runs.log )
  log "end relay_rows"
  engine cut-3 /tmp/rrelay-cut
  engine base-3 /tmp/rrelay-base
  engine base-4 /tmp/rrelay-base
  engine cut-4 /tmp/rrelay-cut
  log "start profile cut"
  ( cd /tmp/rrelay-cut && BENCH_RECON_CASES=3000 BENCH_RECON_PROFILE=rrelay-cut-3000 PYTHONPATH=/tmp/rrelay-cut \
      nice -n 19 $PY bench/reconciliation.py > /dev/null 2>> $HERE/engine-stderr.log )
  cp /tmp/rrelay-cut/bench-results/reconciliation.json $HERE/engine-profiled-cut-3000.json
  log "end profile cut"
fi
