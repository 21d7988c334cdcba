#!/usr/bin/env bash
# The fraud-world lane after fw-3131-before: both seeds on this branch's code, each settled
# fraud database kept as a copy for tracing (fw4242_after, fw3131_after).
set -u
. /work/wt/custody/.state/env.sh
B=/work/wt/custody/bench-results/custody-20261207w32
PY=/work/wt/custody/.venv/bin/python
PSQL="psql -h 127.0.0.1 -p $DISPUTEDESK_PG_PORT -U postgres -d postgres"
while kill -0 "$1" 2>/dev/null; do sleep 5; done
date -u
cd /work/wt/custody
nice -n 10 $PY $B/fw_at_end.py 4242 2026-12-07T05:00:00+00:00 $B/fw-4242-after > $B/fw-4242-after.log 2>&1; date -u
PGPASSWORD=postgres $PSQL -c "drop database if exists fw4242_after" -c "create database fw4242_after template fworld_fraud"; date -u
nice -n 10 $PY $B/fw_at_end.py 3131 2026-12-07T04:00:00+00:00 $B/fw-3131-after > $B/fw-3131-after.log 2>&1; date -u
PGPASSWORD=postgres $PSQL -c "drop database if exists fw3131_after" -c "create database fw3131_after template fworld_fraud"; date -u
