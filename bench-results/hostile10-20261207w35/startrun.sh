#!/usr/bin/env bash
# The probe's services: `scripts/run.sh` (stack, topics, credentials, migrate, partners, run) on this worktree's ports.
set -euo pipefail
cd /work/wt/hostile10
export DISPUTEDESK_STATE_DIR=/work/wt/hostile10/.state/test DISPUTEDESK_KAFKA_PORT=19092 DISPUTEDESK_PG_PORT=19432 DISPUTEDESK_SMTP_PORT=19025
export INTAKE_PORT=19801 RECONCILIATION_PORT=19802 FRAUD_PORT=19803 NOTIFICATIONS_PORT=19804 CONSOLE_PORT=19805
exec nice -n 10 bash scripts/run.sh
