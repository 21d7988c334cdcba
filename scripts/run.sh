#!/usr/bin/env bash
# `make run`: the local stack, migrated databases, development credentials and partners, then
# the four services under a supervisor that restarts any that dies. Ctrl-C stops the services;
# `make stack-down` stops Kafka, PostgreSQL and the mail sink. `make run DEMO=1` also sends
# simulated marketplace traffic (`disputedesk simulate --demo`) once the services are healthy;
# `make run REPLICAS=2` runs two processes of each service.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

$PY -m disputedesk.cli stack up
# Services check their topics at start-up and create none; this makes them (idempotent).
$PY -m disputedesk.cli topics apply
set -a
# shellcheck disable=SC1091
. "${DISPUTEDESK_STATE_DIR:-.state}/stack.env"
set +a
$PY -m disputedesk.cli dev-credentials
$PY -m disputedesk.cli migrate
$PY -m disputedesk.cli seed-partners
exec $PY -m disputedesk.cli run --no-stack ${DEMO:+--demo} ${REPLICAS:+--replicas "$REPLICAS"}
