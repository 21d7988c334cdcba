#!/bin/bash
# One stream of replays, run from the repository root: pops the next seed off QUEUE (one per
# line) until it is empty, each seed its own replay of the code at CODE (default: this checkout)
# appended to OUT.jsonl (stderr to OUT.err, times to OUT.log), niced. PILF_RANGES=wide draws
# the wide worlds (default: each seed's own range set, dev/held-out).
# usage: bench-results/fpilf6-20261205g/stream.sh LABEL QUEUE OUT
label=$1 queue=$2 out=$3
export DISPUTEDESK_STATE_DIR=$PWD/.state/bench DISPUTEDESK_KAFKA_PORT=23092 \
  DISPUTEDESK_PG_PORT=23432 DISPUTEDESK_SMTP_PORT=23025 PYTHONPATH=${CODE:-$PWD}
while seed=$(head -n1 "$queue") && [ -n "$seed" ]; do
  sed -i 1d "$queue"
  echo "$(date -u +%T) start $seed" >>"$out.log"
  nice -n 5 .venv/bin/python bench-results/fpilf6-20261205g/pilf_replay.py "$label" "$seed" \
    >>"$out.jsonl" 2>>"$out.err"
  echo "$(date -u +%T) end $seed rc=$?" >>"$out.log"
done
