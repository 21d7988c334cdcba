#!/usr/bin/env bash
# The A/B of bench-results/rtime-20261206w26: base = /tmp/rtime-base (8d5919c9, the integration
# branch), cut = /tmp/rtime-cut (this branch), each a `git archive` run with the worktree's .venv.
#   ab.sh rows    the stored rows of a 300-decision run of each (dump_rows.py: every case,
#                 timeline, outbox, ledger and timer row, JSON compared as values), compared,
#                 base twice as the control
#   ab.sh engine  bench/reconciliation.py: base, cut, cut, base; pg_stat_statements reset
#                 before each run and saved after it (pgss-<label>.txt)
set -u
OUT=/work/wt/rtime/bench-results/rtime-20261206w26
PY=/work/wt/rtime/.venv/bin/python
export DISPUTEDESK_STATE_DIR=/work/wt/rtime/.state/t DISPUTEDESK_KAFKA_PORT=27092
export DISPUTEDESK_PG_PORT=27432 DISPUTEDESK_SMTP_PORT=27025 BENCH_E2E_PORT_BASE=27800
export BENCH_RECON_CASES=${BENCH_RECON_CASES:-1000} LOG_LEVEL=WARNING PGPASSWORD=postgres
PSQL="psql -h 127.0.0.1 -p 27432 -U postgres -X -q"
mkdir -p /tmp/rtime
log() { echo "$(date -u +%T) $* load $(cut -d' ' -f1-3 /proc/loadavg)" >> $OUT/runs.log; }
rows() {  # label dir
  ( cd "$2" && BENCH_CPU_DECISIONS=300 PYTHONPATH="$2" nice -n 19 $PY bench/consumer_cpu.py run decisions --code "$2" > $OUT/rows-$1.run 2>&1 )
  $PY $OUT/dump_rows.py postgresql://postgres:postgres@127.0.0.1:27432/bench_cpu_decisions > /tmp/rtime/rows-$1.json
}
engine() {  # label dir
  log "start engine $1"
  $PSQL -d postgres -c "SELECT pg_stat_statements_reset()" > /dev/null
  ( cd "$2" && PYTHONPATH="$2" nice -n 19 $PY bench/reconciliation.py > /dev/null 2>> $OUT/engine-stderr.log )
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
  log "start rows base"; rows base /tmp/rtime-base
  log "start rows cut"; rows cut /tmp/rtime-cut
  log "start rows base (control)"; rows base2 /tmp/rtime-base
  if cmp -s /tmp/rtime/rows-base.json /tmp/rtime/rows-base2.json; then log "rows: base twice identical (control)"; else log "rows: base twice DIFFER (control)"; fi
  if cmp -s /tmp/rtime/rows-base.json /tmp/rtime/rows-cut.json; then log "rows: cut identical to base"; else log "rows: cut DIFFERS from base"; fi
  ;;&
engine|all)
  engine base-1 /tmp/rtime-base
  engine cut-1 /tmp/rtime-cut
  engine cut-2 /tmp/rtime-cut
  engine base-2 /tmp/rtime-base
  log "end"
  ;;
esac
