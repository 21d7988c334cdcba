#!/bin/bash
# usage: start.sh <repo dir> [extra env assignments...]
repo=$1; shift
pkill -f "disputedesk.cli serve" ; sleep 2
cd $repo
set -a; . /work/main/.state/t/stack.env; . /work/main/.state/t/dev-credentials.env; set +a
export DISPUTEDESK_STATE_DIR=/work/main/.state/t PYTHONPATH=$repo
for kv in "$@"; do export "$kv"; done
p=20801
for s in intake reconciliation fraud notifications; do
  (setsid nohup /work/main/.venv/bin/python -m disputedesk.cli serve $s --port $p > /tmp/idle/$s.log 2>&1 < /dev/null &)
  p=$((p+1))
done
for i in $(seq 60); do
  ok=0; for p in 20801 20802 20803 20804; do c=$(curl -s -o /dev/null -w "%{http_code}" localhost:$p/healthz); [ "$c" = 200 ] && ok=$((ok+1)); done
  [ $ok = 4 ] && break; sleep 2
done
echo "healthy: $ok"
