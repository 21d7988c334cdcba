#!/usr/bin/env bash
# After ab.sh: the decision path alone (bench/consumer_cpu.py decisions, 1,000 decisions: the
# runner's per-event wrapper inside reconciliation's batch handler, no relay), base, cut, cut,
# base; then the relay on reconciliation's case events with the services' own producer
# (relay_rows.py, 6 rounds alternating).
set -u
HERE=/work/wt/rrelay/bench-results/rrelay-20261206w25
PY=/work/wt/rrelay/.venv/bin/python
. $HERE/env.sh
log() { echo "$(date -u +%T) $* load $(cut -d' ' -f1-3 /proc/loadavg)" >> $HERE/runs.log; }
log "start decisions"
( cd /work/wt/rrelay && BENCH_CPU_DECISIONS=1000 nice -n 19 $PY bench/consumer_cpu.py compare --code base=/tmp/rrelay-base \
    --code cut=/tmp/rrelay-cut --rounds 2 --out $HERE/decisions-cpu.json decisions 2> $HERE/decisions-runs.log > /dev/null )
log "start relay_rows (services' producer)"
( cd /work/wt/rrelay && PYTHONPATH=/work/wt/rrelay nice -n 19 $PY $HERE/relay_rows.py compare \
    base=/tmp/rrelay-base cut=/tmp/rrelay-cut --rounds 6 > $HERE/relay-rows-service.json 2> $HERE/relay-rows-service-runs.log )
log "end ab2"
