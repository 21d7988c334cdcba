#!/usr/bin/env bash
# ab.sh TAG ANNOUNCED TARGETS: bench/intake_ab.py, next/w35 (`git archive 2c47b4e4` under
# .state/base-src) against this branch, alternated round by round with the bare endpoint,
# 3 rounds × 300 requests at concurrency 16; ANNOUNCED=0 sends scans of returns the feed has not
# announced (intake holds them: the path this branch changes), 1 the common webhook
set -u
here=$(cd "$(dirname "$0")" && pwd); root=/work/wt/lean7
export DISPUTEDESK_STATE_DIR=$root/.state/test DISPUTEDESK_KAFKA_PORT=28092 DISPUTEDESK_PG_PORT=28432 DISPUTEDESK_SMTP_PORT=28025
echo "[$(date -u +%H:%M:%S)] ab-$1 (announced=$2, $3) load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$here/runs.log"
(cd $root && BENCH_READY_TIMEOUT_S=400 BENCH_INTAKE_ANNOUNCED=$2 BENCH_AB_VARIANTS="base=$root/.state/base-src;lean7=." \
   BENCH_AB_ROUNDS=3 BENCH_AB_REQUESTS=300 BENCH_AB_TARGETS=$3 \
   nice -n 10 .venv/bin/python bench/intake_ab.py) > "$here/ab-$1.json" 2> "$here/ab-$1.err"
echo "[$(date -u +%H:%M:%S)] ab-$1 done, load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$here/runs.log"
