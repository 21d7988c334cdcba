#!/usr/bin/env bash
# The engine on the migration alone (final = 52f9726) against main (base = 2daa0f7), on a
# quieter machine: base, final, final, base; bench/reconciliation.py, 1,000 ready cases.
set -u
OUT=/work/wt-precon/bench-results/precon-20261205/core-path
PY=/work/wt-precon/.venv/bin/python
export DISPUTEDESK_STATE_DIR=/work/wt-precon/.state/bench DISPUTEDESK_KAFKA_PORT=25092
export DISPUTEDESK_PG_PORT=25432 DISPUTEDESK_SMTP_PORT=25025 BENCH_E2E_PORT_BASE=25800
export BENCH_RECON_CASES=1000 LOG_LEVEL=WARNING
log() { echo "$(date -u +%T) $* load $(cut -d' ' -f1-3 /proc/loadavg)" >> $OUT/runs.log; }
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
engine base-3 /tmp/precon-base
engine final-3 /tmp/precon-final
engine final-4 /tmp/precon-final
engine base-4 /tmp/precon-base
