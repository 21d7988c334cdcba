#!/usr/bin/env bash
# One e2e run (x1, one replica, even mix) from checkout $1, results under label $2, on this
# worktree's bench stack (ports 23192/23532/23125, services from 23800), brought up from that
# checkout and down after. usage: run_one.sh CHECKOUT LABEL
dir=$1; label=$2
out=/work/wt/pcpu5/bench-results/pcpu5-20261205w21
export DISPUTEDESK_STATE_DIR=/work/wt/pcpu5/.state/bench DISPUTEDESK_KAFKA_PORT=23192 \
  DISPUTEDESK_PG_PORT=23532 DISPUTEDESK_SMTP_PORT=23125 BENCH_E2E_PORT_BASE=23800
echo "=== $label $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a $out/runs.log
(cd $dir && .venv/bin/python -m disputedesk.cli stack up > /dev/null 2>&1)
(cd $dir && PYTHONPATH=$dir KEEP_BENCH_STACK=1 BENCH_E2E_MULTIPLIERS=${MULT:-1} BENCH_E2E_MIX=even \
  BENCH_E2E_REPLICAS=1 nice -n 5 bash scripts/bench.sh e2e > $out/$label.log 2>&1)
cp $dir/bench-results/e2e.json $out/e2e-$label.json
(cd $dir && git checkout -- bench-results/e2e.json bench-results/e2e.png 2>/dev/null)
grep -E "accepted|idle:|request errors" $out/$label.log | tee -a $out/runs.log
(cd $dir && .venv/bin/python -m disputedesk.cli stack down >/dev/null 2>&1)
echo "=== end $label $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a $out/runs.log
