#!/usr/bin/env bash
# One e2e pass pair (even, production; ×0.5 and ×1; one process) of one checkout, on platency's
# ports. Usage: run_one.sh <checkout dir> <label>. Results are copied beside this script.
set -uo pipefail
dir=$1; label=$2
out=$(cd "$(dirname "$0")" && pwd)
cd "$dir"
echo "$label start $(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/runs.log"
DISPUTEDESK_STATE_DIR=$PWD/.state/bench DISPUTEDESK_KAFKA_PORT=21092 DISPUTEDESK_PG_PORT=21432 \
DISPUTEDESK_SMTP_PORT=21025 BENCH_E2E_PORT_BASE=21800 BENCH_E2E_MULTIPLIERS=0.5,1 \
BENCH_E2E_MIX=even,production BENCH_E2E_REPLICAS=1 \
  nice -n 5 bash scripts/bench.sh e2e >"$out/$label.log" 2>&1
rc=$?
cp bench-results/e2e.json "$out/$label.json" 2>/dev/null
echo "$label end $(date -u +%FT%TZ) rc=$rc load $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/runs.log"
