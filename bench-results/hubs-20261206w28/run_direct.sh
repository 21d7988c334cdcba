#!/usr/bin/env bash
# fraud-eval --direct on this branch (after) and on main's tree (before, /tmp/hubs-main: `git
# archive main`), one after the other on the test stack's PostgreSQL (eval_* databases).
#   bash run_direct.sh RANGES SEEDS   (e.g. wide 2, dev 2)
set -u
ranges=$1 seeds=$2
out=/work/wt/hubs/bench-results/hubs-20261206w28
export DISPUTEDESK_STATE_DIR=/work/wt/hubs/.state/test DISPUTEDESK_KAFKA_PORT=26092 DISPUTEDESK_PG_PORT=26432 DISPUTEDESK_SMTP_PORT=26025
cd /work/wt/hubs && nice -n 10 .venv/bin/python -m disputedesk.cli fraud-eval --direct --ranges "$ranges" --seeds "$seeds" --out "$out/$ranges-after" > "$out/$ranges-after.log" 2>&1
cd /tmp/hubs-main && PYTHONPATH=/tmp/hubs-main nice -n 10 /work/wt/hubs/.venv/bin/python -m disputedesk.cli fraud-eval --direct --ranges "$ranges" --seeds "$seeds" --out "$out/$ranges-before" > "$out/$ranges-before.log" 2>&1
