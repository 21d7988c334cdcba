#!/usr/bin/env bash
# The A/B of bench-results/precon-20261205/core-path: base = /tmp/precon-base (2daa0f7, main),
# cut = /tmp/precon-cut (this branch), each a `git archive`. First the stored rows of a
# 300-decision run of the cut (compared with base's, rows-*.json by dump_rows.py), then
# consumer_cpu's `decisions` (base, cut, base, cut; then cut, base reversed), then the engine
# (cut, base; base, cut; the second pair with py-spy).
set -u
OUT=/work/wt-precon/bench-results/precon-20261205/core-path
PY=/work/wt-precon/.venv/bin/python
export DISPUTEDESK_STATE_DIR=/work/wt-precon/.state/bench DISPUTEDESK_KAFKA_PORT=25092
export DISPUTEDESK_PG_PORT=25432 DISPUTEDESK_SMTP_PORT=25025 BENCH_E2E_PORT_BASE=25800
export BENCH_RECON_CASES=1000 LOG_LEVEL=WARNING
log() { echo "$(date -u +%T) $* load $(cut -d' ' -f1-3 /proc/loadavg)" >> $OUT/runs.log; }
rows() {  # label dir
  ( cd "$2" && BENCH_CPU_DECISIONS=300 PYTHONPATH="$2" nice -n 5 $PY /work/wt-precon/bench/consumer_cpu.py run decisions --code "$2" > $OUT/rows-$1.run 2>&1 )
  PGPASSWORD=postgres $PY $OUT/dump_rows.py postgresql://postgres:postgres@127.0.0.1:25432/bench_cpu_decisions > /tmp/precon/rows-$1.json
}
engine() {  # label dir [profile]
  log "start engine $1"
  ( cd "$2" && BENCH_RECON_PROFILE=${3:-} PYTHONPATH="$2" nice -n 5 $PY bench/reconciliation.py > /dev/null 2>> $OUT/engine-stderr.log )
  cp "$2/bench-results/reconciliation.json" "$OUT/engine-$1.json"
  $PY - "$OUT/engine-$1.json" "$1" >> $OUT/runs.log <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1])); e = r["engine"]
print(f"  {sys.argv[2]}: decided {r['decided']}/{r['cases']}, unbalanced {r['ledger_unbalanced_transactions']}, cpu/decision {r['process_cpu_ms_per_decision']} ms, pg {r['postgres_cpu_ms_per_decision']} ms, dec/s {e['decisions_per_s']}, raw {r['raw_consumer']['messages_per_s']}, ratio {r['ratio']}, cores {r['cores_busy_while_deciding']}")
PYEOF
  log "end engine $1"
}
log "start rows cut"
rows cut /tmp/precon-cut
if cmp -s /tmp/precon/rows-base.json /tmp/precon/rows-cut.json; then log "rows: cut identical to base"; else log "rows: cut DIFFERS from base"; fi
log "start decisions compare base/cut x2"
cd /work/wt-precon && BENCH_CPU_DECISIONS=1000 nice -n 5 $PY bench/consumer_cpu.py compare \
  --code base=/tmp/precon-base --code cut=/tmp/precon-cut \
  --rounds 2 --out $OUT/decisions-cpu.json decisions >> $OUT/runs.log 2>> $OUT/decisions-runs.log
log "start decisions compare cut/base (reversed)"
BENCH_CPU_DECISIONS=1000 nice -n 5 $PY bench/consumer_cpu.py compare \
  --code cut=/tmp/precon-cut --code base=/tmp/precon-base \
  --rounds 1 --out $OUT/decisions-cpu-reversed.json decisions >> $OUT/runs.log 2>> $OUT/decisions-runs.log
log "end decisions compare"
engine cut-1 /tmp/precon-cut
engine base-1 /tmp/precon-base
engine base-2 /tmp/precon-base precon14-base
engine cut-2 /tmp/precon-cut precon14-cut
for c in base cut; do
  mkdir -p $OUT/profile-engine-$c-2 && cp /tmp/precon-$c/bench-results/profiles/precon14-$c/* $OUT/profile-engine-$c-2/
done
log "end"
