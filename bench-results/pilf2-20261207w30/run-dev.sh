#!/usr/bin/env bash
# run-dev.sh NAME [base]: fraud-eval --direct --ranges dev --seeds 2 of this tree (or main's, extracted to .state/base-src)
set -euo pipefail
cd /work/wt/pilf2
export DISPUTEDESK_STATE_DIR=/work/wt/pilf2/.state/test DISPUTEDESK_KAFKA_PORT=26092 DISPUTEDESK_PG_PORT=26432 DISPUTEDESK_SMTP_PORT=26025
B=$PWD/bench-results/pilf2-20261207w30
if [ "${2:-}" = base ]; then cd .state/base-src; export PYTHONPATH=$PWD; fi
nice -n 10 /work/wt/pilf2/.venv/bin/python -m disputedesk.cli fraud-eval --direct --ranges dev --seeds 2 --out $B/dev-$1 > $B/dev-$1.log 2>&1
