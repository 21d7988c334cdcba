#!/usr/bin/env bash
# usage: STATE_DIR=<the test stack state folder> run.sh <checkout> <log>
cd "$1" && export DISPUTEDESK_STATE_DIR=${STATE_DIR:?} DISPUTEDESK_KAFKA_PORT=22092 \
  DISPUTEDESK_PG_PORT=22432 DISPUTEDESK_SMTP_PORT=22025 KEEP_TEST_STACK=1
start=$(date +%s.%N)
nice -n 19 bash scripts/test.sh tests/integration/test_hostile_wire.py -q -p no:randomly --durations=30 > "$2" 2>&1
rc=$?
end=$(date +%s.%N)
echo "RC=$rc WALL=$(echo "$end - $start" | bc) dir=$1 start=$(date -u -d @${start%.*} +%T)" >> "$2"
