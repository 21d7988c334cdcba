#!/usr/bin/env bash
# alternate base (ba2ae09) and main e2e runs
for i in 1 2; do
  for side in base main; do
    if [ $side = base ]; then dir=/tmp/idle-base; else dir=/tmp/lead-main; fi
    echo "=== $side-$i $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
    (cd $dir && PYTHONPATH=$dir DISPUTEDESK_STATE_DIR=/work/main/.state/bench BENCH_E2E_MULTIPLIERS=1 BENCH_E2E_MIX=even BENCH_E2E_REPLICAS=1 bash scripts/bench.sh e2e 2>&1 | grep -v "not found in cluster" | grep -E "accepted|│ 1×|idle:|request errors" )
    cp $dir/bench-results/e2e.json /work/notes/w13/e2e-$side-$i.json 2>/dev/null
    echo "=== end $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
  done
done
