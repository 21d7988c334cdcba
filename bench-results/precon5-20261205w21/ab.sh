#!/usr/bin/env bash
# The A/B of bench-results/precon5-20261205w21: base = /tmp/precon5-base (adee26da, main), cut =
# /tmp/precon5-cut (this branch), each a `git archive` with the worktree's .venv linked.
#   ab.sh rows       the stored rows of a 300-decision run of each (dump_rows.py), compared,
#                    base twice as the control
#   ab.sh decisions  consumer_cpu's `decisions`: base/cut x2, then cut/base x2
#   ab.sh rowbase    base twice (the control); ab.sh rowcut: the cut against it
#   ab.sh engine     bench/reconciliation.py: base, cut, cut, base (both run the branch's
#                    bench/reconciliation.py, copied into the base's tree: it reports the load)
set -u
OUT=/work/wt/precon5/bench-results/precon5-20261205w21
PY=/work/wt/precon5/.venv/bin/python
export DISPUTEDESK_STATE_DIR=/work/wt/precon5/.state/t DISPUTEDESK_KAFKA_PORT=24092
export DISPUTEDESK_PG_PORT=24432 DISPUTEDESK_SMTP_PORT=24025 BENCH_E2E_PORT_BASE=24800
export BENCH_RECON_CASES=${BENCH_RECON_CASES:-1000} LOG_LEVEL=WARNING
mkdir -p /tmp/precon5
log() { echo "$(date -u +%T) $* load $(cut -d' ' -f1-3 /proc/loadavg)" >> $OUT/runs.log; }
rows() {  # label dir
  ( cd "$2" && BENCH_CPU_DECISIONS=300 PYTHONPATH="$2" nice -n 5 $PY bench/consumer_cpu.py run decisions --code "$2" > $OUT/rows-$1.run 2>&1 )
  $PY $OUT/dump_rows.py postgresql://postgres:postgres@127.0.0.1:24432/bench_cpu_decisions > /tmp/precon5/rows-$1.json
}
engine() {  # label dir
  log "start engine $1"
  ( cd "$2" && PYTHONPATH="$2" nice -n 5 $PY bench/reconciliation.py > /dev/null 2>> $OUT/engine-stderr.log )
  cp "$2/bench-results/reconciliation.json" "$OUT/engine-$1.json"
  $PY - "$OUT/engine-$1.json" "$1" >> $OUT/runs.log <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1])); e = r["engine"]
print(f"  {sys.argv[2]}: decided {r['decided']}/{r['cases']}, unbalanced {r['ledger_unbalanced_transactions']}, cpu/decision {r['process_cpu_ms_per_decision']} ms (after start {r['process_cpu_ms_per_decision_after_start']}), pg {r['postgres_cpu_ms_per_decision']} ms, dec/s {e['decisions_per_s']} (steady {e['decisions_per_s_steady']}), raw {r['raw_consumer']['messages_per_s']}, ratio {r['ratio']} (steady {r.get('ratio_steady')}), cores {r['cores_busy_while_deciding']}, load {r.get('load_average_1m')}")
PYEOF
  log "end engine $1"
}
case "${1:-all}" in
rowbase)  # the control: base twice
  log "start rows base"; rows base /tmp/precon5-base
  log "start rows base (control)"; rows base2 /tmp/precon5-base
  if cmp -s /tmp/precon5/rows-base.json /tmp/precon5/rows-base2.json; then log "rows: base twice identical (control)"; else log "rows: base twice DIFFER (control)"; fi
  ;;
rowcut)  # the branch against the stored base
  log "start rows cut"; rows cut /tmp/precon5-cut
  if cmp -s /tmp/precon5/rows-base.json /tmp/precon5/rows-cut.json; then log "rows: cut identical to base"; else log "rows: cut DIFFERS from base"; fi
  ;;
rows|all)
  log "start rows base"; rows base /tmp/precon5-base
  log "start rows cut"; rows cut /tmp/precon5-cut
  log "start rows base (control)"; rows base2 /tmp/precon5-base
  if cmp -s /tmp/precon5/rows-base.json /tmp/precon5/rows-base2.json; then log "rows: base twice identical (control)"; else log "rows: base twice DIFFER (control)"; fi
  if cmp -s /tmp/precon5/rows-base.json /tmp/precon5/rows-cut.json; then log "rows: cut identical to base"; else log "rows: cut DIFFERS from base"; fi
  ;;&
decisions|all)
  log "start decisions compare base/cut x2"
  cd /work/wt/precon5 && BENCH_CPU_DECISIONS=1000 nice -n 5 $PY bench/consumer_cpu.py compare \
    --code base=/tmp/precon5-base --code cut=/tmp/precon5-cut \
    --rounds 2 --out $OUT/decisions-cpu.json decisions >> $OUT/runs.log 2>> $OUT/decisions-runs.log
  log "start decisions compare cut/base x2 (reversed)"
  BENCH_CPU_DECISIONS=1000 nice -n 5 $PY bench/consumer_cpu.py compare \
    --code cut=/tmp/precon5-cut --code base=/tmp/precon5-base \
    --rounds 2 --out $OUT/decisions-cpu-reversed.json decisions >> $OUT/runs.log 2>> $OUT/decisions-runs.log
  log "end decisions compare"
  ;;&
engine|all)
  engine base-1 /tmp/precon5-base
  engine cut-1 /tmp/precon5-cut
  engine cut-2 /tmp/precon5-cut
  engine base-2 /tmp/precon5-base
  log "end"
  ;;
esac
