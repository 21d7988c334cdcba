#!/usr/bin/env bash
# The lanes once the rule was committed (d4c549c1, archived in .state/after-src and run from
# there, as the base from .state/base-src): direct runs one at a time on the eval_* databases,
# fraud-world runs one at a time on the fworld_* databases.
#   lanes2.sh direct WAIT_PID | lanes2.sh world WAIT_PID
set -u
W=/work/wt/pilferpair
. $W/.state/env.sh
B=$W/bench-results/pilferpair-20261207w33
PY=$W/.venv/bin/python
before() { (cd $W/.state/base-src && PYTHONPATH=$W/.state/base-src nice -n 10 $PY "$@"); }
after() { (cd $W/.state/after-src && PYTHONPATH=$W/.state/after-src nice -n 10 $PY "$@"); }
while kill -0 "$2" 2>/dev/null; do sleep 5; done
date -u
if [ "$1" = direct ]; then
  after -m disputedesk.cli fraud-eval --direct --ranges dev --seeds 2 --out $B/dev-after > $B/dev-after.log 2>&1; date -u
  before -m disputedesk.cli fraud-eval --direct --ranges wide --seeds 2 --out $B/wide-before > $B/wide-before.log 2>&1; date -u
  after -m disputedesk.cli fraud-eval --direct --ranges wide --seeds 2 --out $B/wide-after > $B/wide-after.log 2>&1; date -u
else
  after $B/fw_at_end.py 4242 2026-12-07T05:00:00+00:00 $B/fw-4242-after > $B/fw-4242-after.log 2>&1; date -u
fi
