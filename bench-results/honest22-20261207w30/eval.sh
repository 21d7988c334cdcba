#!/usr/bin/env bash
# eval.sh CODE_ROOT OUT [extra fraud-eval args] : fraud-eval --direct with the code at CODE_ROOT
set -euo pipefail
export DISPUTEDESK_STATE_DIR=/work/wt/honest22/.state/test DISPUTEDESK_KAFKA_PORT=25092 DISPUTEDESK_PG_PORT=25432 DISPUTEDESK_SMTP_PORT=25025
code=$1; out=$2; shift 2
cd "$code"
PYTHONPATH="$code" nice -n 10 /work/wt/honest22/.venv/bin/python -c 'import sys; from disputedesk.cli import app; sys.argv[0]="disputedesk"; app()' \
  fraud-eval --direct --out "$out" "$@"
