#!/usr/bin/env bash
# Flame graphs of each service under one step of the e2e load (bench/profile.py):
# `bash scripts/profile.sh [LABEL]` writes bench-results/profiles/<LABEL>/.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

export DISPUTEDESK_STATE_DIR="${DISPUTEDESK_STATE_DIR:-$PWD/.state/bench}"
export DISPUTEDESK_KAFKA_PORT="${DISPUTEDESK_KAFKA_PORT:-28092}"
export DISPUTEDESK_PG_PORT="${DISPUTEDESK_PG_PORT:-28432}"
export DISPUTEDESK_SMTP_PORT="${DISPUTEDESK_SMTP_PORT:-28025}"

$PY -m disputedesk.cli stack up || exit 1
$PY -m bench.profile "$@"
status=$?
if [ "${KEEP_BENCH_STACK:-0}" != "1" ]; then
  $PY -m disputedesk.cli stack down >/dev/null || true
fi
exit $status
