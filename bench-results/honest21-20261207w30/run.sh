#!/usr/bin/env bash
# run.sh CODE_ROOT OUT RANGES SEED DBSUFFIX : trace one world with the code at CODE_ROOT
set -euo pipefail
export DISPUTEDESK_STATE_DIR=/work/wt/honest21/.state/test DISPUTEDESK_KAFKA_PORT=25092 DISPUTEDESK_PG_PORT=25432 DISPUTEDESK_SMTP_PORT=25025
B=/work/wt/honest21/bench-results/honest21-20261207w30
cd "$1"
EVAL_DB=eval_fraud_h21_$5 nice -n 10 /work/wt/honest21/.venv/bin/python $B/drivers/${TRACE:-trace_world.py} "$3" "$2" "$4"
