#!/usr/bin/env bash
# startrun.sh CODE_DIR : `disputedesk run --no-stack` of the code in CODE_DIR on ports 25101-25105,
# against the worktree's stack (25092/25432/25025), its own credentials in .state/run.
set -euo pipefail
code=${1:-/work/wt/hostile}
wt=/work/wt/hostile
export DISPUTEDESK_KAFKA_PORT=25092 DISPUTEDESK_PG_PORT=25432 DISPUTEDESK_SMTP_PORT=25025
export DISPUTEDESK_STATE_DIR=$wt/.state/run
export INTAKE_PORT=25101 RECONCILIATION_PORT=25102 FRAUD_PORT=25103 NOTIFICATIONS_PORT=25104 CONSOLE_PORT=25105
export PYTHONPATH=$code
mkdir -p "$DISPUTEDESK_STATE_DIR"; cp $wt/.state/test/stack.env "$DISPUTEDESK_STATE_DIR/stack.env"
set -a; . $wt/.state/test/stack.env; set +a
cd "$code"
PY=$wt/.venv/bin/python
$PY -m disputedesk.cli topics apply
$PY -m disputedesk.cli dev-credentials
$PY $wt/bench-results/hostile-20261206w28/addkeys.py "$DISPUTEDESK_STATE_DIR/keyring.json"
$PY -m disputedesk.cli migrate
$PY -m disputedesk.cli seed-partners
exec nice -n 10 $PY -m disputedesk.cli run --no-stack
