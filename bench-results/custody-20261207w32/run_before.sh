#!/usr/bin/env bash
# The "before" measurements on main's code (a git archive of the base in .state/base-src,
# run from there so that the package and the stack's services import main's code).
set -u
. /work/wt/custody/.state/env.sh
B=/work/wt/custody/bench-results/custody-20261207w32
PY=/work/wt/custody/.venv/bin/python
DD=/work/wt/custody/.venv/bin/disputedesk
cd /work/wt/custody/.state/base-src
export PYTHONPATH=/work/wt/custody/.state/base-src
date -u
nice -n 10 $PY -m disputedesk.cli fraud-eval --direct --ranges dev --seeds 2 --out $B/dev-before > $B/dev-before.log 2>&1; date -u
nice -n 10 $PY $B/fw_at_end.py 4242 2026-12-07T05:00:00+00:00 $B/fw-4242-before > $B/fw-4242-before.log 2>&1; date -u
nice -n 10 $PY $B/fw_at_end.py 3131 2026-12-07T04:00:00+00:00 $B/fw-3131-before > $B/fw-3131-before.log 2>&1; date -u
nice -n 10 $PY -m disputedesk.cli fraud-eval --direct --ranges wide --seeds 2 --out $B/wide-before > $B/wide-before.log 2>&1; date -u
