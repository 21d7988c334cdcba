#!/bin/bash
# One stream of pilferage replays (pilf_replay.py), run from the repository root: the seeds
# given, one after another, appended to OUT.jsonl (stderr OUT.err, times OUT.log), niced, on
# the test stack's PostgreSQL (state .state/t, ports 22xxx).   usage: stream.sh LABEL OUT SEED...
label=$1 out=$2; shift 2
export DISPUTEDESK_STATE_DIR=$PWD/.state/t DISPUTEDESK_KAFKA_PORT=22192 \
  DISPUTEDESK_PG_PORT=22532 DISPUTEDESK_SMTP_PORT=22125 PYTHONPATH=${CODE:-$PWD}
for seed in "$@"; do
  echo "$(date -u +%T) start $seed" >>"$out.log"
  nice -n 5 .venv/bin/python bench-results/fpilf7-20261205h/pilf_replay.py "$label" "$seed" \
    >>"$out.jsonl" 2>>"$out.err"
  echo "$(date -u +%T) end $seed rc=$?" >>"$out.log"
done
