#!/usr/bin/env bash
# abkinds.sh TAG: bench/intake_ab.py with this tree's intake as the one variant against the bare
# endpoint, every request kind, 3 rounds × 300 at concurrency 16, /healthz too; py-spy on intake
# when PROFILE=1 (collapsed stacks in profile-TAG/)
set -u
here=$(cd "$(dirname "$0")" && pwd); root=/work/wt/lean6
export DISPUTEDESK_STATE_DIR=$root/.state/test DISPUTEDESK_KAFKA_PORT=26092 DISPUTEDESK_PG_PORT=26432 DISPUTEDESK_SMTP_PORT=26025
extra=(); [ "${PROFILE:-0}" = 1 ] && extra=(BENCH_AB_PROFILE=$here/profile-$1)
echo "[$(date -u +%H:%M:%S)] $1 load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$here/runs.log"
(cd $root && env "${extra[@]}" BENCH_AB_VARIANTS="head=." BENCH_AB_HEALTHZ=1 BENCH_AB_ROUNDS=3 BENCH_AB_REQUESTS=300 \
   BENCH_AB_TARGETS=swiftship,rapidroute,desipost,feed,feed_keyed,escalation \
   nice -n 10 .venv/bin/python bench/intake_ab.py) > "$here/ab-$1.json" 2> "$here/ab-$1.err"
