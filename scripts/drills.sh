#!/usr/bin/env bash
# `make drills`: fault drills on a stack of their own (state folder and ports), so breaking the
# broker and the database never disturbs `make run` or `make test`. Its ports lie below the
# kernel's ephemeral range (32768+), so clients retrying a stopped server cannot take them.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

export DISPUTEDESK_STATE_DIR="${DISPUTEDESK_STATE_DIR:-$PWD/.state/drills}"
export DISPUTEDESK_KAFKA_PORT="${DISPUTEDESK_KAFKA_PORT:-27092}"
export DISPUTEDESK_PG_PORT="${DISPUTEDESK_PG_PORT:-27432}"
export DISPUTEDESK_SMTP_PORT="${DISPUTEDESK_SMTP_PORT:-27025}"

# `--brokers N` among the drill's arguments: bring the stack up as that cluster.
args=("$@")
for i in "${!args[@]}"; do
  case "${args[$i]}" in
    --brokers) export DISPUTEDESK_KAFKA_BROKERS="${args[$((i + 1))]}" ;;
    --brokers=*) export DISPUTEDESK_KAFKA_BROKERS="${args[$i]#--brokers=}" ;;
  esac
done

$PY -m disputedesk.cli stack up || exit 1
$PY -m disputedesk.cli topics apply >/dev/null || exit 1
$PY -m disputedesk.cli drill "$@"
status=$?
if [ "${KEEP_DRILL_STACK:-0}" != "1" ]; then
  $PY -m disputedesk.cli stack down >/dev/null || true
fi
exit $status
