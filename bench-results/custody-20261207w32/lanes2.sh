#!/usr/bin/env bash
# Two lanes that share no database: direct runs (eval_* databases, one at a time) and
# fraud-world runs (fworld_* databases, one at a time). "before" runs import main's code from a
# git archive of the base (.state/base-src, run from there), "after" runs this branch's.
#   lanes.sh direct WAIT_PID | lanes.sh world WAIT_PID
set -u
. /work/wt/custody/.state/env.sh
B=/work/wt/custody/bench-results/custody-20261207w32
PY=/work/wt/custody/.venv/bin/python
before() { (cd /work/wt/custody/.state/base-src && PYTHONPATH=/work/wt/custody/.state/base-src nice -n 10 $PY "$@"); }
after() { (cd /work/wt/custody && nice -n 10 $PY "$@"); }
while kill -0 "$2" 2>/dev/null; do sleep 5; done
date -u
if [ "$1" = direct ]; then
  before -m disputedesk.cli fraud-eval --direct --ranges wide --seeds 2 --out $B/wide-before > $B/wide-before.log 2>&1; date -u
  after -m disputedesk.cli fraud-eval --direct --ranges wide --seeds 2 --out $B/wide-after > $B/wide-after.log 2>&1; date -u
else
  before $B/fw_at_end.py 3131 2026-12-07T04:00:00+00:00 $B/fw-3131-before > $B/fw-3131-before.log 2>&1; date -u
  after $B/fw_at_end.py 4242 2026-12-07T05:00:00+00:00 $B/fw-4242-after > $B/fw-4242-after.log 2>&1; date -u
  after $B/fw_at_end.py 3131 2026-12-07T04:00:00+00:00 $B/fw-3131-after > $B/fw-3131-after.log 2>&1; date -u
fi
