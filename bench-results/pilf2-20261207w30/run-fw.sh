#!/usr/bin/env bash
# run-fw.sh NAME [base]: fraud-world --seed 4242 through the stack, this tree (or main's, extracted to .state/base-src)
set -euo pipefail
cd /work/wt/pilf2
export DISPUTEDESK_STATE_DIR=/work/wt/pilf2/.state/test DISPUTEDESK_KAFKA_PORT=26092 DISPUTEDESK_PG_PORT=26432 DISPUTEDESK_SMTP_PORT=26025
B=$PWD/bench-results/pilf2-20261207w30
if [ "${2:-}" = base ]; then cd .state/base-src; export PYTHONPATH=$PWD; fi
nice -n 10 /work/wt/pilf2/.venv/bin/python -m disputedesk.cli fraud-world --seed 4242 --port-base 26100 --out $B/fw-4242-$1 > $B/fw-4242-$1.log 2>&1
