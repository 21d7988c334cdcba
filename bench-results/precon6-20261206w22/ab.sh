#!/usr/bin/env bash
# The A/B of bench-results/precon6-20261206w22: base = /tmp/precon6-base (ba1c5cdf, main), cut =
# /tmp/precon6-cut (this branch), each a `git archive` with the worktree's .venv linked.
#   ab.sh rows    the stored rows of a 300-decision run of each (dump_rows.py: every case,
#                 timeline, outbox, ledger and timer row, JSON compared as values), compared,
#                 base twice as the control
#   ab.sh engine  bench/reconciliation.py: base, cut, cut, base; pg_stat_statements reset
#                 before each run and saved after it (pgss-<label>.txt: each statement's time,
#                 rows and WAL)
set -u
OUT=/work/wt/precon6/bench-results/precon6-20261206w22
PY=/work/wt/precon6/.venv/bin/python
export DISPUTEDESK_STATE_DIR=/work/wt/precon6/.state/t DISPUTEDESK_KAFKA_PORT=25092
export DISPUTEDESK_PG_PORT=25432 DISPUTEDESK_SMTP_PORT=25025 BENCH_E2E_PORT_BASE=25800
export BENCH_RECON_CASES=${BENCH_RECON_CASES:-1000} LOG_LEVEL=WARNING PGPASSWORD=postgres
PSQL="psql -h 127.0.0.1 -p 25432 -U postgres -X -q"
mkdir -p /tmp/precon6
log() { echo "$(date -u +%T) $* load $(cut -d' ' -f1-3 /proc/loadavg)" >> $OUT/runs.log; }
rows() {  # label dir
  ( cd "$2" && BENCH_CPU_DECISIONS=300 PYTHONPATH="$2" nice -n 5 $PY bench/consumer_cpu.py run decisions --code "$2" > $OUT/rows-$1.run 2>&1 )
  $PY $OUT/dump_rows.py postgresql://postgres:postgres@127.0.0.1:25432/bench_cpu_decisions > /tmp/precon6/rows-$1.json
}
engine() {  # label dir
  log "start engine $1"
  $PSQL -d postgres -c "SELECT pg_stat_statements_reset()" > /dev/null
  ( cd "$2" && PYTHONPATH="$2" nice -n 5 $PY bench/reconciliation.py > /dev/null 2>> $OUT/engine-stderr.log )
  $PSQL -d postgres -v db=bench_reconciliation -f $OUT/pgss.sql > $OUT/pgss-$1.txt
  cp "$2/bench-results/reconciliation.json" "$OUT/engine-$1.json"
  $PY - "$OUT/engine-$1.json" "$1" >> $OUT/runs.log <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1])); e = r["engine"]
print(f"  {sys.argv[2]}: decided {r['decided']}/{r['cases']}, unbalanced {r['ledger_unbalanced_transactions']}, cpu/decision {r['process_cpu_ms_per_decision']} ms (after start {r['process_cpu_ms_per_decision_after_start']}), pg {r['postgres_cpu_ms_per_decision']} ms, dec/s {e['decisions_per_s']} (steady {e['decisions_per_s_steady']}), raw {r['raw_consumer']['messages_per_s']}, ratio {r['ratio']} (steady {r.get('ratio_steady')}), cores {r['cores_busy_while_deciding']}, load {r.get('load_average_1m')}")
PYEOF
  log "end engine $1"
}
case "${1:-all}" in
rows|all)
  log "start rows base"; rows base /tmp/precon6-base
  log "start rows cut"; rows cut /tmp/precon6-cut
  log "start rows base (control)"; rows base2 /tmp/precon6-base
  if cmp -s /tmp/precon6/rows-base.json /tmp/precon6/rows-base2.json; then log "rows: base twice identical (control)"; else log "rows: base twice DIFFER (control)"; fi
  if cmp -s /tmp/precon6/rows-base.json /tmp/precon6/rows-cut.json; then log "rows: cut identical to base"; else log "rows: cut DIFFERS from base"; fi
  ;;&
engine|all)
  engine base-1 /tmp/precon6-base
  engine cut-1 /tmp/precon6-cut
  engine cut-2 /tmp/precon6-cut
  engine base-2 /tmp/precon6-base
  log "end"
  ;;
esac
