#!/usr/bin/env bash
# The A/B of bench-results/precon4-20261205h: base = /tmp/precon4-base (a6aed01, main), cut =
# /tmp/precon4-cut (this branch), each a `git archive` with the worktree's .venv linked.
#   ab.sh rows       the stored rows of a 300-decision run of each (dump_rows.py), compared,
#                    base twice as the control
#   ab.sh decisions  consumer_cpu's `decisions`: base/cut x2, then cut/base x2
#   ab.sh engine     bench/reconciliation.py: base, cut, cut, base
set -u
OUT=/work/wt-precon4/bench-results/precon4-20261205h
PY=/work/wt-precon4/.venv/bin/python
export DISPUTEDESK_STATE_DIR=/work/wt-precon4/.state/bench DISPUTEDESK_KAFKA_PORT=27092
export DISPUTEDESK_PG_PORT=27432 DISPUTEDESK_SMTP_PORT=27025 BENCH_E2E_PORT_BASE=27800
export BENCH_RECON_CASES=${BENCH_RECON_CASES:-1000} LOG_LEVEL=WARNING
mkdir -p /tmp/precon4
log() { echo "$(date -u +%T) $* load $(cut -d' ' -f1-3 /proc/loadavg)" >> $OUT/runs.log; }
rows() {  # label dir
  ( cd "$2" && BENCH_CPU_DECISIONS=300 PYTHONPATH="$2" nice -n 5 $PY bench/consumer_cpu.py run decisions --code "$2" > $OUT/rows-$1.run 2>&1 )
  $PY $OUT/dump_rows.py postgresql://postgres:postgres@127.0.0.1:27432/bench_cpu_decisions > /tmp/precon4/rows-$1.json
}
engine() {  # label dir
  log "start engine $1"
  ( cd "$2" && PYTHONPATH="$2" nice -n 5 $PY bench/reconciliation.py > /dev/null 2>> $OUT/engine-stderr.log )
  cp "$2/bench-results/reconciliation.json" "$OUT/engine-$1.json"
  $PY - "$OUT/engine-$1.json" "$1" >> $OUT/runs.log <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1])); e = r["engine"]
print(f"  {sys.argv[2]}: decided {r['decided']}/{r['cases']}, unbalanced {r['ledger_unbalanced_transactions']}, cpu/decision {r['process_cpu_ms_per_decision']} ms, pg {r['postgres_cpu_ms_per_decision']} ms, dec/s {e['decisions_per_s']}, raw {r['raw_consumer']['messages_per_s']}, ratio {r['ratio']}, cores {r['cores_busy_while_deciding']}")
PYEOF
  log "end engine $1"
}
case "${1:-all}" in
rows|all)
  log "start rows base"; rows base /tmp/precon4-base
  log "start rows cut"; rows cut /tmp/precon4-cut
  log "start rows base (control)"; rows base2 /tmp/precon4-base
  if cmp -s /tmp/precon4/rows-base.json /tmp/precon4/rows-base2.json; then log "rows: base twice identical (control)"; else log "rows: base twice DIFFER (control)"; fi
  if cmp -s /tmp/precon4/rows-base.json /tmp/precon4/rows-cut.json; then log "rows: cut identical to base"; else log "rows: cut DIFFERS from base"; fi
  ;;&
decisions|all)
  log "start decisions compare base/cut x2"
  cd /work/wt-precon4 && BENCH_CPU_DECISIONS=1000 nice -n 5 $PY bench/consumer_cpu.py compare \
    --code base=/tmp/precon4-base --code cut=/tmp/precon4-cut \
    --rounds 2 --out $OUT/decisions-cpu.json decisions >> $OUT/runs.log 2>> $OUT/decisions-runs.log
  log "start decisions compare cut/base x2 (reversed)"
  BENCH_CPU_DECISIONS=1000 nice -n 5 $PY bench/consumer_cpu.py compare \
    --code cut=/tmp/precon4-cut --code base=/tmp/precon4-base \
    --rounds 2 --out $OUT/decisions-cpu-reversed.json decisions >> $OUT/runs.log 2>> $OUT/decisions-runs.log
  log "end decisions compare"
  ;;&
engine|all)
  engine base-1 /tmp/precon4-base
  engine cut-1 /tmp/precon4-cut
  engine cut-2 /tmp/precon4-cut
  engine base-2 /tmp/precon4-base
  log "end"
  ;;
esac
