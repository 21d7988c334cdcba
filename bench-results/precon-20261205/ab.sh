#!/usr/bin/env bash
# The A/B of bench-results/precon-20261205: base = /tmp/precon13-base (ba2ae09, main), cut =
# /tmp/precon13-cut (this branch), each a `git archive`. First the decision events' own Python
# (emit_rows_ab.py) alternating base/cut/cut/base/base/cut, then consumer_cpu's `decisions`
# (base, cut, base, cut; then cut, base reversed), then the engine (cut, base; base, cut).
set -u
OUT=/work/wt-perf2/bench-results/precon-20261205
PY=/work/wt-perf2/.venv/bin/python
export DISPUTEDESK_STATE_DIR=/work/wt-perf2/.state/bench DISPUTEDESK_KAFKA_PORT=25092
export DISPUTEDESK_PG_PORT=25432 DISPUTEDESK_SMTP_PORT=25025 BENCH_E2E_PORT_BASE=25801
export BENCH_RECON_CASES=1000 LOG_LEVEL=WARNING
source "$OUT/engine.sh"
log() { echo "$(date -u +%T) $* load $(cut -d' ' -f1-3 /proc/loadavg)" >> $OUT/runs.log; }
emit_rows() {  # label dir
  ( cd "$2" && PYTHONPATH="$2" nice -n 5 $PY $OUT/emit_rows_ab.py | sed "s/^/$1 /" >> $OUT/emit-rows.log )
}
log "start emit_rows"
for c in base cut cut base base cut; do emit_rows $c /tmp/precon13-$c; done
log "end emit_rows"
log "start decisions compare base/cut x2"
cd /work/wt-perf2 && BENCH_CPU_DECISIONS=1000 nice -n 5 $PY bench/consumer_cpu.py compare \
  --code base=/tmp/precon13-base --code cut=/tmp/precon13-cut \
  --rounds 2 --out $OUT/decisions-cpu.json decisions >> $OUT/runs.log 2>> $OUT/decisions-runs.log
log "start decisions compare cut/base (reversed)"
BENCH_CPU_DECISIONS=1000 nice -n 5 $PY bench/consumer_cpu.py compare \
  --code cut=/tmp/precon13-cut --code base=/tmp/precon13-base \
  --rounds 1 --out $OUT/decisions-cpu-reversed.json decisions >> $OUT/runs.log 2>> $OUT/decisions-runs.log
log "end decisions compare"
engine cut-1 /tmp/precon13-cut
engine base-1 /tmp/precon13-base
engine base-2 /tmp/precon13-base precon13-base
engine cut-2 /tmp/precon13-cut precon13-cut
for c in base cut; do
  mkdir -p $OUT/profile-$c && cp /tmp/precon13-$c/bench-results/profiles/precon13-$c/* $OUT/profile-$c/
done
$PY $OUT/../precon-20261204d/layers.py $OUT/profile-base/reconciliation-engine.txt \
  $OUT/profile-cut/reconciliation-engine.txt > $OUT/layers.json
log "end"
