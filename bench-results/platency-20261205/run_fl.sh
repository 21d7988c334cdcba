#!/usr/bin/env bash
# Fraud alone at the goal stream (bench/fraud_latency.py, ×0.5 and ×1, 20 s steps, drained),
# one checkout, platency's ports. Usage: run_fl.sh <checkout dir> <label>.
set -uo pipefail
dir=$1; label=$2
out=$(cd "$(dirname "$0")" && pwd)
cd "$dir"
export DISPUTEDESK_STATE_DIR=$PWD/.state/bench DISPUTEDESK_KAFKA_PORT=21092 \
  DISPUTEDESK_PG_PORT=21432 DISPUTEDESK_SMTP_PORT=21025
echo "$label start $(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/runs.log"
BENCH_FRAUD_LATENCY_PORT=21813 BENCH_FRAUD_LATENCY_MULTIPLIERS=0.5,1 BENCH_FRAUD_LATENCY_STEP_S=20 \
BENCH_FRAUD_LATENCY_DRAIN_S=60 nice -n 5 bash scripts/bench.sh fraud_latency >"$out/$label.log" 2>&1
rc=$?
cp bench-results/fraud_latency.json "$out/$label.json" 2>/dev/null
echo "$label end $(date -u +%FT%TZ) rc=$rc load $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/runs.log"
