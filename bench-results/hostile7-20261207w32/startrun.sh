#!/usr/bin/env bash
set -euo pipefail
cd /work/wt/hostile7
export DISPUTEDESK_STATE_DIR=/work/wt/hostile7/.state/test DISPUTEDESK_KAFKA_PORT=26092 DISPUTEDESK_PG_PORT=26432 DISPUTEDESK_SMTP_PORT=26025
export INTAKE_PORT=26101 RECONCILIATION_PORT=26102 FRAUD_PORT=26103 NOTIFICATIONS_PORT=26104 CONSOLE_PORT=26105
set -a; . .state/test/stack.env; set +a
PY=.venv/bin/python
$PY -m disputedesk.cli dev-credentials
$PY -m disputedesk.cli migrate
$PY -m disputedesk.cli seed-partners
exec nice -n 10 $PY -m disputedesk.cli run --no-stack
