#!/usr/bin/env bash
set -euo pipefail
cd /work/wt/hostile9
export DISPUTEDESK_STATE_DIR=/work/wt/hostile9/.state/test DISPUTEDESK_KAFKA_PORT=21092 DISPUTEDESK_PG_PORT=21432 DISPUTEDESK_SMTP_PORT=21025
export INTAKE_PORT=21101 RECONCILIATION_PORT=21102 FRAUD_PORT=21103 NOTIFICATIONS_PORT=21104 CONSOLE_PORT=21105
set -a; . .state/test/stack.env; set +a
PY=.venv/bin/python
$PY -m disputedesk.cli dev-credentials
$PY -m disputedesk.cli migrate
$PY -m disputedesk.cli seed-partners
exec nice -n 10 $PY -m disputedesk.cli run --no-stack
