#!/usr/bin/env bash
# The "after" measurements on this branch's code, overlapped with run_before.sh where the two
# use different databases (direct runs: eval_*; fraud-world: fworld_*).
set -u
. /work/wt/custody/.state/env.sh
B=/work/wt/custody/bench-results/custody-20261207w32
cd /work/wt/custody
date -u
nice -n 10 .venv/bin/disputedesk fraud-eval --direct --ranges dev --seeds 2 --out $B/dev-after > $B/dev-after.log 2>&1; date -u
# The fraud-world runs once run_before.sh has moved on to its last (direct) run.
while [ ! -e $B/wide-before.log ]; do sleep 10; done; date -u
nice -n 10 .venv/bin/python $B/fw_at_end.py 4242 2026-12-07T05:00:00+00:00 $B/fw-4242-after > $B/fw-4242-after.log 2>&1; date -u
nice -n 10 .venv/bin/python $B/fw_at_end.py 3131 2026-12-07T04:00:00+00:00 $B/fw-3131-after > $B/fw-3131-after.log 2>&1; date -u
while kill -0 $(cat /work/wt/custody/.state/run_before.pid) 2>/dev/null; do sleep 10; done; date -u
nice -n 10 .venv/bin/disputedesk fraud-eval --direct --ranges wide --seeds 2 --out $B/wide-after > $B/wide-after.log 2>&1; date -u
