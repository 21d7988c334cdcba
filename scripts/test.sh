#!/usr/bin/env bash
# `make test`: the whole suite against a real Kafka broker, PostgreSQL and SMTP server.
# The test stack has its own state folder and ports, so it never disturbs `make run`.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

export DISPUTEDESK_STATE_DIR="${DISPUTEDESK_STATE_DIR:-$PWD/.state/test}"
export DISPUTEDESK_KAFKA_PORT="${DISPUTEDESK_KAFKA_PORT:-29092}"
export DISPUTEDESK_PG_PORT="${DISPUTEDESK_PG_PORT:-29432}"
export DISPUTEDESK_SMTP_PORT="${DISPUTEDESK_SMTP_PORT:-29025}"

# The console's browser tests need Debian's chromium and chromedriver (installed when missing).
bash scripts/ensure-chromium.sh

# Bring the stack up first so its progress shows; the test session reuses it.
$PY -m disputedesk.cli stack up || exit 1
$PY -m disputedesk.cli topics apply >/dev/null || exit 1

# The whole suite by default; `make test ARGS=...` or `bash scripts/test.sh tests/unit/x.py -x`
# runs only the paths given.
targets=(tests)
for arg in "$@"; do
  case "$arg" in tests|tests/*) targets=(); break ;; esac
done
$PY -m pytest "${targets[@]}" -p no:cacheprovider "$@"
status=$?

if [ "${KEEP_TEST_STACK:-0}" != "1" ]; then
  $PY -m disputedesk.cli stack down >/dev/null || true
fi
exit $status
