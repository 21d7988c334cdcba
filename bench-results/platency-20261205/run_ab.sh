#!/usr/bin/env bash
# One e2e run (even and production mixes; ×0.5 and ×1; one process) of one checkout on
# platency's ports, then bench/fraud_waits.py over the production pass fraud's database and
# topics as the run left them. Usage: run_ab.sh <checkout dir> <label>. Results beside this.
set -uo pipefail
dir=$1; label=$2
out=$(cd "$(dirname "$0")" && pwd)
cd "$dir"
export DISPUTEDESK_STATE_DIR=$PWD/.state/bench DISPUTEDESK_KAFKA_PORT=21092 \
  DISPUTEDESK_PG_PORT=21432 DISPUTEDESK_SMTP_PORT=21025
echo "$label start $(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/runs.log"
BENCH_E2E_PORT_BASE=21800 BENCH_E2E_MULTIPLIERS=0.5,1 BENCH_E2E_MIX=even,production \
BENCH_E2E_REPLICAS=1 KEEP_BENCH_STACK=1 nice -n 5 bash scripts/bench.sh e2e >"$out/$label.log" 2>&1
rc=$?
cp bench-results/e2e.json "$out/$label.json" 2>/dev/null
echo "$label end $(date -u +%FT%TZ) rc=$rc load $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/runs.log"
timeout 300 nice -n 5 .venv/bin/python -m bench.fraud_waits \
  "postgresql://postgres:postgres@127.0.0.1:21432/bench_e2e_fraud" 127.0.0.1:21092 \
  >"$out/$label-fraud-waits.json" 2>/dev/null
.venv/bin/python -m disputedesk.cli stack down >/dev/null 2>&1
